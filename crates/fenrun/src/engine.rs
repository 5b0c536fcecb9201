//! The settlement state a caller holds: a policy, a batch it owns, the ranks
//! evaluated and every rule prepared; [`SettleOptions`] choose how it settles.

use crate::batch::Batch;
use crate::error::{Must, Result};
use crate::lines::{LineNames, LineTable, LineView};
use crate::policy::Policy;
use crate::progress::SettleProgress;
use crate::rank::{Progress, RankChange};
use crate::settle::{Part, Settlement};
use crate::state::State;

/// Lines per block when [`Engine::settle_to`] reads blocks line by line.
const VIEW_BLOCK: usize = 4096;

/// Which lines a settlement keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Lines {
    /// Every line, in output order (SPEC §9).
    #[default]
    Keep,
    /// Every line handed to the sink of [`Engine::settle_to`] in output
    /// order and not kept: memory stays bounded by members and open
    /// refunds, not by lines.
    Stream,
    /// None: totals, rank changes and summary only (the fastest form, and
    /// the only one that uses more than one thread).
    TotalsOnly,
}

impl Lines {
    /// `Keep` when the caller wants the lines, else `TotalsOnly`: the
    /// `lines` flag of the bindings and the CLI's `--no-lines`.
    ///
    /// ```
    /// assert_eq!(fenrun::Lines::kept(false), fenrun::Lines::TotalsOnly);
    /// ```
    pub fn kept(lines: bool) -> Lines {
        if lines {
            Lines::Keep
        } else {
            Lines::TotalsOnly
        }
    }
}

/// How [`Engine::settle_with`] settles: the one place that picks the
/// variant, so that the CLI and the bindings do not.
///
/// ```
/// let options = fenrun::SettleOptions::default().lines(fenrun::Lines::TotalsOnly).threads(2);
/// assert_eq!(options.threads, 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettleOptions {
    /// Which lines to keep.
    pub lines: Lines,
    /// Threads for a totals-only settlement (at least 1; lines are kept or
    /// streamed on one thread, in output order).
    pub threads: usize,
    /// Where the settlement counts the orders it has settled, for a progress
    /// bar drawn by another thread.
    pub progress: Option<SettleProgress>,
    /// Split every total into what is available and what is pending at
    /// this time (§14.1); such a settlement runs on one thread.
    pub as_of: Option<crate::Timestamp>,
}

impl Default for SettleOptions {
    fn default() -> SettleOptions {
        SettleOptions {
            lines: Lines::Keep,
            threads: 1,
            progress: None,
            as_of: None,
        }
    }
}

impl SettleOptions {
    /// The same options with `lines`.
    #[must_use]
    pub fn lines(mut self, lines: Lines) -> SettleOptions {
        self.lines = lines;
        self
    }

    /// The same options on `threads` threads (0 counts as 1).
    #[must_use]
    pub fn threads(mut self, threads: usize) -> SettleOptions {
        self.threads = threads.max(1);
        self
    }

    /// The same options splitting the totals at `as_of` (§14.1): each total
    /// becomes net, available and pending, and the summary gains
    /// `pending_total`.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 2, "hold": {"days": 7, "from": "paid"},
    ///   "ranks": [{"id": "member", "rate": "0.10"}], "rules": [{"id": "d", "type": "differential"}]}"#)?;
    /// let batch = fenrun::Batch::from_json(r#"{"members": [{"id": "m1"}], "events": [
    ///   {"id": "o1", "seller": "m1", "amount": "50.00", "at": "2026-11-01T10:00:00Z"},
    ///   {"id": "o2", "seller": "m1", "amount": "30.00", "at": "2026-11-20T10:00:00Z"}]}"#, &policy)?;
    /// let as_of = fenrun::Timestamp::parse("2026-11-25T00:00:00Z").unwrap();
    /// let s = fenrun::Engine::new(&policy, batch)?.settle_with(fenrun::SettleOptions::default().as_of(as_of))?;
    /// // o1's 5.00 was available on 11-08; o2's 3.00 is held until 11-27.
    /// assert_eq!(s.total_of("m1").unwrap().to_string(), "8.00");
    /// assert_eq!(s.available_of("m1").unwrap().to_string(), "5.00");
    /// assert_eq!(s.pending_total().unwrap().to_string(), "3.00");
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    #[must_use]
    pub fn as_of(mut self, as_of: crate::Timestamp) -> SettleOptions {
        self.as_of = Some(as_of);
        self
    }

    /// The same options counting settled orders in `progress`.
    #[must_use]
    pub fn progress(mut self, progress: SettleProgress) -> SettleOptions {
        self.progress = Some(progress);
        self
    }
}

/// A policy applied to a batch: ranks and activity evaluated, rules
/// prepared. It owns its copy of the policy and the batch, so a service or a
/// binding keeps it as one value, settles and explains from it as often as
/// it likes, and takes the batch back with [`Engine::into_batch`].
///
/// ```
/// let policy = fenrun::Policy::from_json(r#"{"version": 1,
///   "ranks": [{"id": "member"}, {"id": "owner", "rate": "0.10"}],
///   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
/// let batch = fenrun::Batch::from_json(r#"{
///   "members": [{"id": "m1", "rank": "owner"}, {"id": "m2", "sponsor": "m1"}],
///   "events": [{"id": "o1", "seller": "m2", "buyer": "c1", "amount": "120.00"}]}"#, &policy)?;
/// let engine = fenrun::Engine::new(&policy, batch)?;
/// let settlement = engine.settle()?;
/// assert_eq!(settlement.total_of("m1").unwrap().to_string(), "12.00");
/// assert_eq!(engine.explain("o1")?.len(), 2);
/// # Ok::<(), fenrun::Error>(())
/// ```
#[derive(Debug)]
pub struct Engine {
    pub(crate) state: State,
}

impl Engine {
    /// Evaluate ranks and activity of `batch` under `policy` (the one it was
    /// validated against) and prepare every rule. The engine keeps a copy of
    /// the policy (a few hundred bytes) and takes the batch.
    pub fn new(policy: &Policy, batch: Batch) -> Result<Engine> {
        Ok(Engine {
            state: State::new(policy, batch)?,
        })
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.state.policy
    }

    /// The batch.
    pub fn batch(&self) -> &Batch {
        &self.state.batch
    }

    /// The batch back, the prepared state dropped.
    pub fn into_batch(self) -> Batch {
        self.state.batch
    }

    /// The money scale of the policy.
    pub fn scale(&self) -> u32 {
        self.state.policy.rounding().scale
    }

    /// The rank changes of evaluation, sorted by member id.
    pub fn rank_changes(&self) -> &[RankChange] {
        &self.state.ranking.changes
    }

    /// The rank changes as the canonical JSON document `{"rank_changes": [...]}`.
    pub fn rank_changes_json(&self) -> String {
        crate::output::ranks_json(&self.state.ranking.changes)
    }

    /// The rank of member `id` after evaluation.
    pub fn rank_of(&self, id: &str) -> Option<&str> {
        let m = self.state.batch.ids.position(id)?;
        Some(self.state.rank_id(m)).filter(|r| !r.is_empty())
    }

    /// Member `id`'s progress towards the next rank: each leaf of that rank's
    /// upgrade condition with the member's value; `None` for an unknown member.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 1, "evaluate_ranks": true, "ranks": [
    ///   {"id": "member"},
    ///   {"id": "group_owner", "rate": "0.10", "upgrade": {"all": [
    ///     {"metric": "largest_group", "gte": 100}, {"metric": "sales", "gte": "5000"}]}}]}"#).unwrap();
    /// let batch = fenrun::Batch::from_json(r#"{"members": [{"id": "m1"}],
    ///   "groups": [{"id": "g1", "owner": "m1", "size": 120}],
    ///   "events": [{"id": "o1", "seller": "m1", "amount": "800.00"}]}"#, &policy).unwrap();
    /// let engine = fenrun::Engine::new(&policy, batch).unwrap();
    /// let p = engine.progress("m1").unwrap().unwrap();
    /// assert_eq!(p.next.as_deref(), Some("group_owner"));
    /// let leaves: Vec<_> = p.leaves.iter().map(|l| (l.leaf.value.as_str(), l.holds)).collect();
    /// assert_eq!(leaves, [("120", true), ("800", false)]);
    /// ```
    pub fn progress(&self, id: &str) -> Result<Option<Progress>> {
        let Some(m) = self.state.batch.ids.position(id) else {
            return Ok(None);
        };
        let m = u32::try_from(m).ok().must("members", "member index")?;
        let s = &self.state;
        crate::rank::progress(&s.policy, &s.batch, &s.ranking, m).map(Some)
    }

    /// Whether member `id` is active after `active_if`.
    pub fn is_active(&self, id: &str) -> Option<bool> {
        let m = self.state.batch.ids.position(id)?;
        self.state.ranking.active.get(m).copied()
    }

    /// Settle the whole batch, keeping every line.
    pub fn settle(&self) -> Result<Settlement> {
        self.settle_with(SettleOptions::default())
    }

    /// Settle the whole batch as `options` say: every line kept, or totals
    /// only on one thread or several (the same totals, rank changes and
    /// summary to the cent either way, §10.6). With [`Lines::Stream`] and no
    /// sink the lines are computed and dropped.
    ///
    /// ```
    /// # let policy = fenrun::Policy::from_json(r#"{"version":1,"ranks":[{"id":"member","rate":"0.1"}],"rules":[{"id":"d","type":"differential"}]}"#)?;
    /// # let batch = fenrun::Batch::from_json(r#"{"members":[{"id":"m1"}],"events":[{"id":"o1","seller":"m1","amount":"10"}]}"#, &policy)?;
    /// let engine = fenrun::Engine::new(&policy, batch)?;
    /// let all = engine.settle_with(fenrun::SettleOptions::default())?;
    /// let totals = engine.settle_with(
    ///     fenrun::SettleOptions::default().lines(fenrun::Lines::TotalsOnly).threads(2),
    /// )?;
    /// assert_eq!((all.line_count(), totals.line_count()), (1, 0));
    /// assert_eq!(all.total_of("m1"), totals.total_of("m1"));
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn settle_with(&self, options: SettleOptions) -> Result<Settlement> {
        self.settle_to(options, |_| Ok(()))
    }

    /// [`Engine::settle_with`], handing each line to `sink` in output order
    /// when `options.lines` is [`Lines::Stream`] (the other forms do not call
    /// it). A streamed settlement has totals, rank changes and summary and no
    /// lines; a sink error stops it with `sink_error`.
    ///
    /// ```
    /// # let policy = fenrun::Policy::from_json(r#"{"version":1,"ranks":[{"id":"member","rate":"0.1"}],"rules":[{"id":"d","type":"differential"}]}"#)?;
    /// # let batch = fenrun::Batch::from_json(r#"{"members":[{"id":"m1"}],"events":[{"id":"o1","seller":"m1","amount":"10"}]}"#, &policy)?;
    /// let engine = fenrun::Engine::new(&policy, batch)?;
    /// let mut count = 0;
    /// let stream = fenrun::SettleOptions::default().lines(fenrun::Lines::Stream);
    /// let s = engine.settle_to(stream, |line| {
    ///     count += 1;
    ///     assert_eq!(line.beneficiary, "m1");
    ///     Ok(())
    /// })?;
    /// assert_eq!((count, s.line_count()), (1, 0));
    /// assert_eq!(s.total_of("m1").unwrap().to_string(), "1.00");
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn settle_to<F>(&self, options: SettleOptions, mut sink: F) -> Result<Settlement>
    where
        F: FnMut(LineView<'_>) -> std::io::Result<()>,
    {
        let names = self.line_names();
        self.settle_blocks(options, VIEW_BLOCK, |block| {
            for i in 0..block.len() {
                let line = names.view(block, i).must("lines", "line")?;
                sink(line).map_err(|e| crate::Error::SinkError {
                    path: "lines".into(),
                    detail: e.to_string(),
                })?;
            }
            Ok(())
        })
    }

    /// [`Engine::settle_with`], handing the lines to `sink` as columns in
    /// blocks of `rows` lines (the last one shorter), in output order, when
    /// `options.lines` is [`Lines::Stream`] (the other forms do not call
    /// it). A block's indices are resolved by [`Engine::line_names`]. The
    /// blocks depend on `rows` and the batch only, so a writer fed by them
    /// writes the same bytes however it is run; the sink's error stops the
    /// settlement and is returned as it is. The block is lent: a sink that
    /// reads it leaves it to be cleared and filled again (no allocation per
    /// block), one that keeps it takes it (`std::mem::take`, or
    /// `std::mem::replace` with a spare table of an earlier block).
    ///
    /// ```
    /// # let policy = fenrun::Policy::from_json(r#"{"version":1,"ranks":[{"id":"member","rate":"0.1"}],"rules":[{"id":"d","type":"differential"}]}"#)?;
    /// # let batch = fenrun::Batch::from_json(r#"{"members":[{"id":"m1"}],"events":[{"id":"o1","seller":"m1","amount":"10"},{"id":"o2","seller":"m1","amount":"20.50"}]}"#, &policy)?;
    /// let engine = fenrun::Engine::new(&policy, batch)?;
    /// let names = engine.line_names();
    /// let mut amounts = Vec::new();
    /// let stream = fenrun::SettleOptions::default().lines(fenrun::Lines::Stream);
    /// engine.settle_blocks(stream, 1024, |block| {
    ///     for (&m, &units) in block.beneficiaries().iter().zip(block.amount_units()) {
    ///         amounts.push((names.member(m).to_owned(), units));
    ///     }
    ///     Ok(())
    /// })?;
    /// // 10 % of 10 and of 20.50, in cents.
    /// assert_eq!(amounts, [("m1".to_owned(), 100), ("m1".to_owned(), 205)]);
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn settle_blocks<F>(
        &self,
        options: SettleOptions,
        rows: usize,
        mut sink: F,
    ) -> Result<Settlement>
    where
        F: FnMut(&mut LineTable) -> Result<()>,
    {
        let progress = options.progress.as_ref();
        if let Some(p) = progress {
            p.start(self.state.order_count());
        }
        match (options.lines, options.as_of) {
            (Lines::TotalsOnly, None) => self.state.settle_totals(options.threads, progress),
            (lines, as_of) => self
                .state
                .settle_in_order(as_of, lines, rows, &mut sink, progress),
        }
    }

    /// What the member, event and rule indices of this engine's lines
    /// ([`Engine::settle_blocks`]) stand for.
    pub fn line_names(&self) -> LineNames {
        self.state.line_names()
    }

    /// Distribution measures of `settled`, a settlement of this engine (else
    /// `invalid_value`): Gini coefficient, top shares, payouts by rank, and
    /// the money by source (own sales, downline's sales, pools). A
    /// settlement that kept no lines is settled again, streaming, for the
    /// sources.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}],
    ///   "rules": [{"id": "l", "type": "levels", "rates": ["0.10", "0.05"]}]}"#)?;
    /// let batch = fenrun::Batch::from_json(r#"{"members": [{"id": "a"}, {"id": "b", "sponsor": "a"}],
    ///   "events": [{"id": "o1", "seller": "b", "amount": "100.00"}]}"#, &policy)?;
    /// let engine = fenrun::Engine::new(&policy, batch)?;
    /// let stats = engine.stats(&engine.settle()?)?;
    /// // b earns 10.00 on its own sale, a 5.00 on b's: totals 5 and 10, Gini (2·(5 + 20) − 3·15) / (2·15).
    /// assert_eq!(stats.gini.unwrap().to_string(), "0.1667");
    /// assert_eq!((stats.sources.own.to_string(), stats.sources.team.to_string()), ("10.00".into(), "5.00".into()));
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn stats(&self, settled: &Settlement) -> Result<crate::Stats> {
        crate::stats::stats(&self.state, settled)
    }

    /// What each member of the batch earns by source (own sales, downline's
    /// sales, pools, member cap) beside its rank and own sales: the rows the
    /// measures of [`Engine::stats`] are made from, for a table or a plot.
    /// `settled` must be a settlement of this engine; one that kept no lines
    /// is settled again, streaming.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}],
    ///   "rules": [{"id": "l", "type": "levels", "rates": ["0.10", "0.05"]}]}"#)?;
    /// let batch = fenrun::Batch::from_json(r#"{"members": [{"id": "a"}, {"id": "b", "sponsor": "a"}],
    ///   "events": [{"id": "o1", "seller": "b", "amount": "100.00"}]}"#, &policy)?;
    /// let engine = fenrun::Engine::new(&policy, batch)?;
    /// let earnings = engine.earnings(&engine.settle()?)?;
    /// let rows: Vec<_> = earnings.iter().map(|r| (r.member, r.own.to_string(), r.team.to_string(), r.own_sales.to_string())).collect();
    /// assert_eq!(rows, [("a", "0.00".into(), "5.00".into(), "0.00".into()), ("b", "10.00".into(), "0.00".into(), "100.00".into())]);
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn earnings(&self, settled: &Settlement) -> Result<crate::Earnings<'_>> {
        crate::stats::earnings(&self.state, settled)
    }

    /// [`crate::lint`] of the policy under `profile`, then the findings of
    /// `settled` (a settlement of this engine): members paid more than 30 %
    /// of their own sales, the batch's payout ratio.
    pub fn lint(&self, settled: &Settlement, profile: crate::Profile) -> Result<crate::Lint> {
        crate::lint::lint_settled(&self.state, settled, profile)
    }

    pub(crate) fn state(&self) -> &State {
        &self.state
    }

    /// Explain, line by line in words, what order `order_id` and its refunds paid and why.
    pub fn explain(&self, order_id: &str) -> Result<Vec<String>> {
        crate::explain::explain(&self.state, order_id)
    }

    /// Settle the orders whose event index `take` accepts, each with its
    /// refunds, in input order, keeping their lines. The parts of a
    /// partition of the orders merge ([`Part::merge`]) into the whole (§10.6).
    ///
    /// ```
    /// # let policy = fenrun::Policy::from_json(r#"{"version":1,"ranks":[{"id":"member","rate":"0.1"}],"rules":[{"id":"d","type":"differential"}]}"#)?;
    /// # let batch = fenrun::Batch::from_json(r#"{"members":[{"id":"m1"}],"events":[{"id":"o1","seller":"m1","amount":"10"},{"id":"o2","seller":"m1","amount":"20"}]}"#, &policy)?;
    /// let engine = fenrun::Engine::new(&policy, batch)?;
    /// let even = engine.settle_part(|i| i % 2 == 0)?;
    /// let odd = engine.settle_part(|i| i % 2 == 1)?;
    /// let whole = engine.finish(even.merge(odd)?)?;
    /// assert_eq!(whole.to_json(), engine.settle()?.to_json());
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn settle_part(&self, take: impl Fn(usize) -> bool) -> Result<Part> {
        self.state.settle_part(take)
    }

    /// Add the pools (computed on the whole batch's net sales) to merged
    /// order parts, and build totals and summary.
    pub fn finish(&self, part: Part) -> Result<Settlement> {
        self.state.finish(part)
    }
}
