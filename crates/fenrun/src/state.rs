//! The prepared state settlement reads: a policy, a batch, the ranks
//! evaluated and each rule's links on the tree (what [`crate::Engine`] owns).

use rust_decimal::Decimal;

use crate::batch::Batch;
use crate::error::{Error, Result};
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
    /// Schedules a seller can have: one per category the policy names (and
    /// one for none) when the batch has categories, else one.
    classes: u32,
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
        let classes = if batch.categories.is_empty() {
            1
        } else {
            u32::try_from(policy.categories().len() + 1).unwrap_or(u32::MAX)
        };
        let keys = u64::from(classes) * batch.ids.len() as u64;
        if keys >= u64::from(crate::graph::NONE) {
            return Err(Error::LimitExceeded {
                path: "categories".into(),
                detail: format!(
                    "{} members × {classes} category schedules is above the limit of {}",
                    batch.ids.len(),
                    crate::graph::NONE - 1
                ),
            });
        }
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
    pub fn category_of(&self, i: usize) -> u16 {
        let code = self.batch.events.category(i);
        self.category_index
            .get(usize::from(code))
            .copied()
            .unwrap_or(0)
    }

    /// Schedules a seller can have (see `classes`).
    pub fn classes(&self) -> u16 {
        u16::try_from(self.classes).unwrap_or(u16::MAX)
    }

    /// Schedule keys: one per seller and class.
    pub fn keys(&self) -> usize {
        self.batch.ids.len() * self.classes as usize
    }

    /// The schedule key of `seller`'s orders of category `c` (below
    /// [`State::keys`], checked when the state was made).
    #[inline]
    pub fn key(&self, seller: u32, c: u16) -> u32 {
        seller * self.classes + u32::from(c) % self.classes
    }
}
