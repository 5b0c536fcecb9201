//! A period a ledger keeps live in `immediate` rank timing (§13, §14
//! guarantee 4): the settlement's own pass ([`Pass`]) and its running state
//! moved by each event as it is applied, so that an order's lines are known
//! the moment it is: the lines a settlement of the period would give it.

use std::sync::Arc;

use crate::batch::{Batch, BatchBuilder};
use crate::error::{Must, Result};
use crate::events::Events;
use crate::ids::{idx32, RuleId};
use crate::index::Packed;
use crate::input::StreamEvent;
use crate::lines::{LineNames, LineTable, LineView};
use crate::policy::Policy;
use crate::rank::Ranking;
use crate::settle::Pass;
use crate::settle::Settlement;
use crate::state::State;

/// Lines the scratch table keeps room for between catch-ups.
const SCRATCH_LINES: usize = 4096;

/// Lines ahead whose member's id is asked for (where it ends twice as far
/// ahead, then its text).
const IDS_AHEAD: usize = 8;

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
    /// What the batch holds instead of the builder's event ids and rows
    /// while the builder takes an event ([`Live::return_events`]).
    blank: (Arc<Packed>, Arc<Events>),
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// The lines events made, in output order, names resolved, owned: one
/// event's ([`crate::Applied::lines`]: an order's lines or a refund's
/// reversals), or those of the events a [`crate::Ledger::catch_up`] settled.
///
/// ```
/// let policy = fenrun::Policy::from_json(r#"{"version": 2, "rank_timing": "immediate",
///   "ranks": [{"id": "member", "rate": "0.10"}],
///   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
/// let mut ledger = fenrun::Ledger::open(&policy, vec![fenrun::input::MemberRecord::new("m1")], vec![])?;
/// let lines = ledger.apply_json(r#"{"id": "o1", "seller": "m1", "amount": "50.00"}"#)?.lines.unwrap();
/// let line = lines.iter().next().unwrap();
/// assert_eq!((line.beneficiary, line.amount.to_string().as_str()), ("m1", "5.00"));
/// # Ok::<(), fenrun::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventLines {
    rules: Arc<[(RuleId, &'static str)]>,
    scale: u32,
    /// Each event's order id, then its refund id for a refund's
    /// reversals, end to end.
    ids: String,
    /// Per event, where its order id ends in `ids` and, for a refund, where
    /// its refund id does (each id starts where the one before ends).
    events: Vec<(usize, Option<usize>)>,
    /// The members paid, end to end (each line's ends at its `member_end`).
    members: String,
    rows: Vec<EventLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EventLine {
    /// Its event, in `events`.
    event: usize,
    member_end: usize,
    rule: u16,
    level: Option<u32>,
    base: rust_decimal::Decimal,
    rate: Option<rust_decimal::Decimal>,
    fixed: Option<rust_decimal::Decimal>,
    amount: rust_decimal::Decimal,
    available_at: Option<crate::Timestamp>,
}

impl EventLines {
    /// Number of lines.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the event made no line.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every line, in output order.
    pub fn iter(&self) -> impl Iterator<Item = LineView<'_>> + '_ {
        let mut start = 0;
        self.rows.iter().map(move |r| {
            let beneficiary = self.members.get(start..r.member_end).unwrap_or("");
            start = r.member_end;
            let (rule, kind) = self
                .rules
                .get(usize::from(r.rule))
                .map_or(("", ""), |(id, kind)| (id.as_str(), *kind));
            let (order, refund) = self.event(r.event);
            LineView {
                order: Some(order),
                refund,
                rule: Some(rule),
                kind,
                beneficiary,
                level: r.level,
                base: r.base,
                rate: r.rate,
                fixed: r.fixed,
                weight: None,
                amount: r.amount,
                available_at: r.available_at,
            }
        })
    }

    /// Event `k`'s order id and refund id.
    fn event(&self, k: usize) -> (&str, Option<&str>) {
        let start = match k.checked_sub(1).and_then(|j| self.events.get(j)) {
            Some(&(order, refund)) => refund.unwrap_or(order),
            None => 0,
        };
        let Some(&(order, refund)) = self.events.get(k) else {
            return ("", None);
        };
        let id = |from: usize, to: usize| self.ids.get(from..to).unwrap_or("");
        (id(start, order), refund.map(|end| id(order, end)))
    }

    /// Each line's canonical JSON (§9), in output order.
    pub fn json(&self) -> Vec<String> {
        self.iter()
            .map(|l| crate::output::line_json(l, self.scale))
            .collect()
    }

    /// The lines as JSON Lines: each line's canonical JSON and `\n`.
    pub fn json_lines(&self) -> String {
        let mut out = String::new();
        for l in self.iter() {
            out.push_str(&crate::output::line_json(l, self.scale));
            out.push('\n');
        }
        out
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
            blank: (
                Arc::default(),
                Arc::new(Events::new(policy.rounding().scale)),
            ),
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

    /// After `builder` took `event` (a new one): the period's batch brought
    /// up to it, a member who joined given room in the running state. Its
    /// order or refund, if it is one, is settled by [`Live::catch_up`].
    pub fn sync(&mut self, builder: &BatchBuilder<'static>, event: &StreamEvent) -> Result<()> {
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
        Ok(())
    }

    /// Give the builder's event ids and rows back: the builder is about to
    /// take an event, and what both hold would be copied to take it.
    /// Nothing reads the live batch's events until [`Live::lend_events`]
    /// lends them again.
    pub fn return_events(&mut self) {
        let (ids, events) = &self.blank;
        self.state.batch.event_ids = Arc::clone(ids);
        self.state.batch.events = Arc::clone(events);
    }

    /// Lend the live batch `builder`'s event ids and rows (this period's builder).
    pub fn lend_events(&mut self, builder: &BatchBuilder<'static>) {
        (self.state.batch.event_ids, self.state.batch.events) = builder.shared_events();
    }

    /// The live batch's event ids and rows (lent by the builder).
    #[cfg(test)]
    pub fn events(&self) -> (&Arc<Packed>, &Arc<Events>) {
        (&self.state.batch.event_ids, &self.state.batch.events)
    }

    /// Orders and refunds taken so far (settled or not).
    pub fn taken(&self) -> usize {
        self.state.batch.events.len()
    }

    /// Orders and refunds settled so far.
    pub fn next(&self) -> usize {
        self.next
    }

    /// Whether every order and refund taken is settled.
    pub fn is_current(&self) -> bool {
        self.next == self.taken()
    }

    /// Settle every order and refund taken and not settled yet, in input
    /// order (each next order's chain asked for ahead, as a batch does);
    /// the lines of those from `answer` on (their index among orders and
    /// refunds).
    pub fn catch_up(&mut self, answer: usize) -> Result<EventLines> {
        self.lines.refill(self.state.policy.rounding().scale, 0);
        while self.next < self.taken() {
            let (lines, keep) = (&mut self.lines, self.next >= answer);
            self.pass
                .step(&self.state, self.next, &|_| true, &mut |l| {
                    if keep {
                        lines.push(l).must("lines", "line")?;
                    }
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
        let mut lines = EventLines {
            rules: Arc::clone(&self.rules),
            scale: self.state.policy.rounding().scale,
            ids: String::new(),
            events: Vec::new(),
            members: String::new(),
            rows: Vec::with_capacity(self.lines.len()),
        };
        // An event's lines come together; an order and its refund's
        // reversals differ in their refund.
        let mut last = None;
        let beneficiaries = self.lines.beneficiaries();
        for i in 0..self.lines.len() {
            // Each paid member's id is a random read among all of them:
            // asked for ahead, where it ends, then its text.
            if let Some(&m) = beneficiaries.get(i + 2 * IDS_AHEAD) {
                batch.ids.prefetch_end(m);
            }
            if let Some(&m) = beneficiaries.get(i + IDS_AHEAD) {
                batch.ids.prefetch_text(m);
            }
            let view = names.view(&self.lines, i).must("lines", "line")?;
            let event = (self.lines.orders().get(i), self.lines.refunds().get(i));
            if last != Some(event) {
                last = Some(event);
                lines.ids.push_str(view.order.unwrap_or_default());
                let order = lines.ids.len();
                let refund = view.refund.map(|r| {
                    lines.ids.push_str(r);
                    lines.ids.len()
                });
                lines.events.push((order, refund));
            }
            lines.members.push_str(view.beneficiary);
            lines.rows.push(EventLine {
                event: lines.events.len().saturating_sub(1),
                member_end: lines.members.len(),
                rule: *self.lines.rules().get(i).must("lines", "rule")?,
                level: view.level,
                base: view.base,
                rate: view.rate,
                fixed: view.fixed,
                amount: view.amount,
                available_at: view.available_at,
            });
        }
        // The scratch keeps what one order's lines need, not the largest
        // catch-up's.
        if self.lines.len() > SCRATCH_LINES {
            self.lines = LineTable::new(self.state.policy.rounding().scale);
        }
        Ok(lines)
    }
}
