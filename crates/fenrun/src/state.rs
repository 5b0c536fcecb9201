//! The prepared state settlement reads: a policy, a batch, the ranks
//! evaluated and each rule's links on the tree (what [`crate::Engine`] owns).

use rust_decimal::Decimal;

use crate::batch::Batch;
use crate::error::Result;
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
        Ok(State {
            policy: policy.clone(),
            batch,
            ranking,
            plans,
            upline,
        })
    }
}
