//! The prepared state settlement reads: a policy, a batch, the ranks
//! evaluated and each rule's links on the tree (what [`crate::Engine`] owns).

use rust_decimal::Decimal;

use crate::batch::Batch;
use crate::error::{EventAt, Missing, Must, Result};
use crate::policy::Policy;
use crate::rank::{evaluate, Ranking};
use crate::rule::Plan;
use crate::upline::{Links, Upline};

/// A policy applied to a batch: ranks and activity evaluated, rules prepared.
#[derive(Debug)]
pub(crate) struct State {
    pub policy: Policy,
    pub batch: Batch,
    pub ranking: Ranking,
    /// Each rule's links on the tree, in policy order.
    pub plans: Vec<Plan>,
    /// The members as schedules walk them.
    pub upline: Upline,
    /// The policy's index of each of the batch's categories (by the batch's
    /// code, code 0 being none).
    category_index: Vec<u16>,
    /// Schedule classes: one per category the policy names and one for
    /// none when the batch has categories, else one.
    classes: u16,
}

impl State {
    /// Evaluate ranks and activity of `batch` under `policy` and prepare every rule.
    pub fn new(policy: &Policy, batch: Batch) -> Result<State> {
        let ranking = evaluate(policy, &batch)?;
        let rank_rates: Vec<Decimal> = policy.ranks().iter().map(|r| r.rate).collect();
        let mut links = Links::default();
        let plans = policy
            .rules()
            .iter()
            .map(|rule| rule.kind.plan(&rank_rates, &mut links))
            .collect();
        let upline = Upline::build(&batch.forest, &ranking.rank, &ranking.active, &links)?;
        let category_index: Vec<u16> = std::iter::once(0)
            .chain(batch.categories.iter().map(|c| policy.category_index(c)))
            .collect();
        // At most `limits::MAX_CATEGORIES` + 1 classes: a u16.
        let classes = if batch.categories.is_empty() {
            1
        } else {
            u16::try_from(policy.categories().len() + 1).unwrap_or(u16::MAX)
        };
        Ok(State {
            policy: policy.clone(),
            batch,
            ranking,
            plans,
            upline,
            category_index,
            classes,
        })
    }

    /// The policy's index of event `i`'s category (0: none, or one the
    /// policy does not name; a refund's is its order's).
    #[inline]
    pub fn category_of(&self, i: usize) -> Result<u16, Missing> {
        let code = self.batch.events.category(i);
        self.category_index
            .get(usize::from(code))
            .copied()
            .must(EventAt(i), "category")
    }

    /// The id of member `m`'s rank after evaluation ("" past the end).
    pub fn rank_id(&self, m: usize) -> &str {
        let r = self.ranking.rank.get(m).copied().unwrap_or_default();
        self.policy
            .ranks()
            .get(usize::from(r))
            .map_or("", |k| k.id.as_str())
    }

    /// Schedule classes: a seller has at most one schedule each (see
    /// `classes`); [`State::category_of`] is below it.
    pub fn classes(&self) -> u16 {
        self.classes
    }
}
