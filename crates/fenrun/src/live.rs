//! A period a ledger keeps live in `immediate` rank timing (§13, §14
//! guarantee 4): the settlement's own pass ([`Pass`]) and its running state
//! moved by each event as it is applied, so that an order's lines are known
//! the moment it is: the lines a settlement of the period would give it.

use std::sync::Arc;

use crate::batch::{Batch, BatchBuilder};
use crate::error::{Must, Result};
use crate::ids::{idx32, RuleId};
use crate::input::StreamEvent;
use crate::lines::{LineNames, LineTable};
use crate::policy::Policy;
use crate::rank::Ranking;
use crate::settle::Pass;
use crate::settle::Settlement;
use crate::state::State;

/// The pass of a settlement over a period that grows event by event.
pub(crate) struct Live {
    /// The rules prepared on the batch so far: the starting members (whose
    /// own tables stay as the period opened; the running state keeps them
    /// as events move them) and every order and refund, member and group
    /// change taken ([`BatchBuilder::sync`]).
    state: State,
    pass: Pass<'static>,
    /// The orders and refunds settled so far.
    next: usize,
    rules: Arc<[(RuleId, &'static str)]>,
    /// Scratch: the lines of the events of one step.
    lines: LineTable,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl Live {
    /// The period of `builder` (its starting members and groups, no event
    /// taken yet) under `policy`, in `immediate` timing: ranks evaluated on
    /// the starting members (§13).
    pub fn open(policy: &Policy, builder: &BatchBuilder<'static>) -> Result<Live> {
        let batch: Batch = builder.to_batch()?;
        let mut state = State::new(policy, batch)?;
        // The orders walk the running state, not a record of a replay.
        state.walks = None;
        let pass = Pass::live(&state)?;
        let rules: Vec<(RuleId, &'static str)> = policy
            .rules()
            .iter()
            .map(|r| (r.id.clone(), r.kind.type_name()))
            .collect();
        Ok(Live {
            lines: LineTable::new(policy.rounding().scale),
            state,
            pass,
            next: 0,
            rules: rules.into(),
        })
    }

    /// The ranks of the period so far, as if it closed now (§13: the log
    /// applied, then retention once), from a copy of the running state:
    /// no event settled again. `builder` is the one the period follows.
    pub fn ranking(&self, builder: &BatchBuilder<'static>) -> Result<(Batch, Ranking)> {
        let running = self.pass.now()?.1.must("ledger", "the running state")?;
        let batch = builder.to_batch()?;
        let ranking = running.finish(&batch)?;
        Ok((batch, ranking))
    }

    /// The totals-only settlement of the period so far, as if it closed
    /// now, finished from the live state: pools and member caps on the
    /// ranks and metrics so far, no event settled again.
    pub fn totals(&self, builder: &BatchBuilder<'static>) -> Result<Settlement> {
        let (part, running) = self.pass.now()?;
        let running = running.must("ledger", "the running state")?;
        let batch = builder.to_batch()?;
        let ranking = running.finish(&batch)?;
        State::with_ranking(&self.state.policy, batch, ranking)?.finish_totals(part)
    }

    /// After `builder` took `event` (a new one): the period brought up to
    /// it and the order or refund it is, if any, settled; its lines (order
    /// lines, or a refund's reversals) as canonical JSON (§9), in output
    /// order.
    pub fn step(
        &mut self,
        builder: &BatchBuilder<'static>,
        event: &StreamEvent,
    ) -> Result<Vec<String>> {
        let joined = builder.sync(&mut self.state.batch, event)?;
        let running = self
            .pass
            .running_mut()
            .must("ledger", "the running state")?;
        for m in joined {
            let joining = builder.joining(m).must("members", "joined member")?;
            running.admit(idx32(m), joining)?;
        }
        self.pass.grow(self.state.batch.ids.len());
        self.state.grown();
        self.lines.refill(self.state.policy.rounding().scale, 0);
        while self.next < self.state.batch.events.len() {
            let lines = &mut self.lines;
            self.pass
                .step(&self.state, self.next, &|_| true, &mut |l| {
                    lines.push(l).must("lines", "line")?;
                    Ok(())
                })?;
            self.next += 1;
        }
        let batch = &self.state.batch;
        let names = LineNames {
            members: Arc::clone(&batch.ids),
            events: Arc::clone(&batch.event_ids),
            rules: Arc::clone(&self.rules),
            times: batch.times.clone(),
            money_bound: None,
        };
        let scale = self.state.policy.rounding().scale;
        (0..self.lines.len())
            .map(|i| {
                let line = names.view(&self.lines, i).must("lines", "line")?;
                Ok(crate::output::line_json(line, scale))
            })
            .collect()
    }
}
