//! The prepared state settlement reads: a policy, a batch, the ranks
//! evaluated and each rule's links on the tree (what [`crate::Engine`] owns).

use rust_decimal::Decimal;

use crate::batch::Batch;
use crate::error::{EventAt, Missing, Must, Result};
use crate::policy::Policy;
use crate::rank::Ranking;
use crate::rule::Plan;
use crate::running::Walks;
use crate::upline::{Links, Upline};

/// A policy applied to a batch: ranks and activity evaluated, rules prepared.
#[derive(Debug)]
pub(crate) struct State {
    pub policy: Policy,
    pub batch: Batch,
    pub ranking: Ranking,
    /// Each rule's links on the tree, in policy order.
    pub plans: Vec<Plan>,
    /// The link columns the plans read.
    pub links: Links,
    /// The members as schedules walk them (the tree after the last move).
    pub upline: Upline,
    /// The tree before each move of a stream's members (§14): `(until,
    /// upline)` in ascending `until`, each for the events before `until`
    /// and from the previous entry's on. Empty without moves.
    pub earlier: Vec<(u32, Upline)>,
    /// In `immediate` timing (§13), what each order walks, as ranking the
    /// period recorded it (`None`: settling replays the period).
    pub walks: Option<Walks>,
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
        let (ranking, walks) = crate::running::ranking(policy, &batch)?;
        let mut state = State::with_ranking(policy, batch, ranking)?;
        state.walks = walks;
        Ok(state)
    }

    /// Prepare every rule of `policy` on `batch` with ranks and activity
    /// already evaluated (from the batch's own orders or merged sums).
    pub fn with_ranking(policy: &Policy, batch: Batch, ranking: Ranking) -> Result<State> {
        let rank_rates: Vec<Decimal> = policy.ranks().iter().map(|r| r.rate).collect();
        let mut links = Links::default();
        let plans = policy
            .rules()
            .iter()
            .map(|rule| rule.kind.plan(&rank_rates, &mut links))
            .collect();
        let upline = Upline::build(&batch.forest, &ranking.rank, &ranking.active, &links)?;
        // Each order walks the tree as it stood when the order came: the
        // moves are undone from the last, one tree per run of moves between
        // two orders or refunds.
        let mut earlier = Vec::new();
        // In `immediate` timing (§13) the tree moves with the running state.
        let mut parent = if policy.is_immediate() || batch.moves().next().is_none() {
            Vec::new()
        } else {
            batch.forest.parent.clone()
        };
        let immediate = policy.is_immediate();
        let mut moves = batch.moves().rev().filter(|_| !immediate).peekable();
        while let Some(mv) = moves.next() {
            if let Some(slot) = parent.get_mut(mv.member as usize) {
                *slot = mv.from;
            }
            if moves.peek().is_some_and(|next| next.before == mv.before) {
                continue;
            }
            let forest = crate::graph::Forest::build(parent.clone(), &batch.ids)?;
            let up = Upline::build(&forest, &ranking.rank, &ranking.active, &links)?;
            earlier.push((mv.before, up));
        }
        drop(moves);
        earlier.reverse();
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
            links,
            upline,
            earlier,
            walks: None,
            category_index,
            classes,
        })
    }

    /// After the batch took more orders (a period a ledger keeps live,
    /// §14): the policy's index of each category that came since, and the
    /// schedule classes.
    pub fn grown(&mut self) {
        let known = self.category_index.len().saturating_sub(1);
        if let Some(new) = self.batch.categories.get(known..) {
            let policy = &self.policy;
            self.category_index
                .extend(new.iter().map(|c| policy.category_index(c)));
        }
        if !self.batch.categories.is_empty() {
            self.classes = u16::try_from(self.policy.categories().len() + 1).unwrap_or(u16::MAX);
        }
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

    /// The tree order `event` walks: the one in place when it came.
    pub fn upline_for(&self, event: usize) -> &Upline {
        self.earlier
            .iter()
            .find(|(until, _)| event < *until as usize)
            .map_or(&self.upline, |(_, up)| up)
    }

    /// Schedule classes: a seller has at most one schedule each (see
    /// `classes`); [`State::category_of`] is below it.
    pub fn classes(&self) -> u16 {
        self.classes
    }
}
