//! The ledger (§14): one open period of a policy that takes events as they
//! arrive, gives the settlement of the events so far at any time, refuses a
//! bad event whole, applies a repeated event once, and is kept across
//! restarts (and languages) by snapshots.

use crate::batch::stream::StreamDoc;
use crate::batch::BatchBuilder;
use crate::engine::{Engine, Lines, SettleOptions};
use crate::error::{Error, Result};
use crate::input::{GroupRecord, MemberRecord, StreamEvent};
use crate::live::{EventLines, Live};
use crate::policy::Policy;
use crate::settle::Settlement;

/// The first line of every snapshot, before its version.
const MAGIC: &str = "fenrun-ledger-snapshot";
/// The snapshot version this fenrun writes and reads.
const SNAPSHOT_VERSION: u32 = 1;
/// The last line's prefix: the SHA-256 of every byte before that line.
const CHECKSUM: &str = "sha256:";

/// One open period of a policy, taking events one at a time (§14).
///
/// The period's rank timing is the policy's (`period_end`: ranks, metrics
/// and lines are those of the whole period, known when it is settled;
/// `immediate`: each event is settled as it is applied, and
/// [`Ledger::apply`] answers with its lines). At
/// any point [`Ledger::settlement`] is the settlement of the events so far,
/// byte for byte the settlement of a batch holding the starting members and
/// groups and those events; the ledger stays open.
///
/// ```
/// use fenrun::input::{MemberRecord, StreamEvent};
/// let policy = fenrun::Policy::from_json(r#"{"version": 2,
///   "ranks": [{"id": "member", "rate": "0.10"}],
///   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
/// let mut ledger = fenrun::Ledger::open(&policy, vec![MemberRecord::new("m1")], vec![])?;
/// let order = StreamEvent::from_json(r#"{"id": "o1", "seller": "m1", "amount": "50.00"}"#)?;
/// assert!(!ledger.apply(&order)?.duplicate);
/// // A retried webhook: the same event again changes nothing.
/// assert!(ledger.apply(&order)?.duplicate);
/// ledger.apply_json(r#"{"id": "e1", "member": {"id": "m2", "sponsor": "m1"}}"#)?;
/// ledger.apply_json(r#"{"id": "o2", "seller": "m2", "amount": "30.00"}"#)?;
/// assert_eq!(ledger.settlement()?.total_of("m1").unwrap().to_string(), "5.00");
/// // Kept across a restart.
/// let bytes = ledger.snapshot();
/// let ledger = fenrun::Ledger::restore(&policy, &bytes)?;
/// assert_eq!(ledger.close()?.total_of("m2").unwrap().to_string(), "3.00");
/// # Ok::<(), fenrun::Error>(())
/// ```
#[derive(Debug)]
pub struct Ledger {
    /// The batch so far, taking events one at a time; it gives back each
    /// event's canonical JSON, what a repeated event is compared with and
    /// what a snapshot keeps (most orders' and refunds' made again from its
    /// tables, the others' kept).
    builder: BatchBuilder<'static>,
    /// The starting members' and groups' canonical JSON, a line each.
    start: String,
    members: usize,
    groups: usize,
    /// In `immediate` rank timing, the period settled as its events come:
    /// what gives an order's lines at once (§14 guarantee 4). `None` in
    /// `period_end` timing, or after a step failed (see [`Ledger::apply`]).
    live: Option<Box<Live>>,
}

/// What [`Ledger::apply`] did with an event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Applied {
    /// The event's position in the stream (the first application's, for a
    /// duplicate).
    pub position: usize,
    /// The event had been applied before with the same content: nothing
    /// changed.
    pub duplicate: bool,
    /// In `immediate` rank timing, the lines the event made (§14 guarantee
    /// 4): an order's lines, a refund's reversals, none for another kind;
    /// each line's canonical JSON (§9), in output order, as a settlement of
    /// the period gives them (`available_at` as known when it was applied).
    /// `None` in `period_end` timing (lines are known at close), for a
    /// duplicate (its lines were given when it was first applied) and for
    /// an event taken by [`Ledger::take`] (settled later, its lines not
    /// given).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "raw_lines")]
    pub lines: Option<EventLines>,
}

/// Lines kept as canonical JSON, written as they are (an array of objects).
fn raw_lines<S: serde::Serializer>(lines: &Option<EventLines>, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::{Error as _, SerializeSeq};
    let lines = lines.as_ref().map(EventLines::json).unwrap_or_default();
    let mut seq = s.serialize_seq(Some(lines.len()))?;
    for line in lines {
        let raw = serde_json::value::RawValue::from_string(line).map_err(S::Error::custom)?;
        seq.serialize_element(&raw)?;
    }
    seq.end()
}

/// What a run of events did: how many were applied, how many were
/// duplicates ([`Ledger::apply_json_lines`], or counted with [`Tally::count`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Tally {
    /// Events applied.
    pub applied: usize,
    /// Events answered as duplicates (nothing changed).
    pub duplicates: usize,
}

impl Tally {
    /// Count one answer.
    pub fn count(&mut self, applied: &Applied) {
        if applied.duplicate {
            self.duplicates += 1;
        } else {
            self.applied += 1;
        }
    }

    /// As JSON: `{"applied":2,"duplicates":0}`.
    pub fn to_json(&self) -> String {
        // Two plain fields always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Applied {
    /// The answer for an event taken at `position`: new, or a repeat of the
    /// event at `first`.
    fn of(position: usize, first: Option<usize>, lines: Option<EventLines>) -> Applied {
        match first {
            None => Applied {
                position,
                duplicate: false,
                lines,
            },
            Some(first) => Applied {
                position: first,
                duplicate: true,
                lines: None,
            },
        }
    }

    /// The answer as JSON: `{"position":3,"duplicate":false}`, with
    /// `"lines":[...]` (each line's canonical JSON) when it has lines.
    pub fn to_json(&self) -> String {
        // Plain fields and lines of canonical JSON always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Ledger {
    /// Open a period of `policy` with its starting members and groups
    /// (checked as a batch's, with the same codes and paths).
    pub fn open(
        policy: &Policy,
        members: Vec<MemberRecord>,
        groups: Vec<GroupRecord>,
    ) -> Result<Ledger> {
        let mut start = String::new();
        let lines = members
            .iter()
            .map(serde_json::to_string)
            .chain(groups.iter().map(serde_json::to_string));
        for line in lines {
            // Records of strings, booleans, integers and decimals always serialize.
            let line = line.map_err(|_| Error::missing("members", "a record that serializes"))?;
            start.push_str(&line);
            start.push('\n');
        }
        let (m, g) = (members.len(), groups.len());
        let builder = BatchBuilder::new(members, &groups, policy)?.streaming(&groups);
        let live = match policy.is_immediate() {
            true => Some(Box::new(Live::open(policy, &builder)?)),
            false => None,
        };
        Ok(Ledger {
            builder,
            start,
            members: m,
            groups: g,
            live,
        })
    }

    /// Open a period from a batch document given as JSON text (§2.4):
    /// `members`, `groups` (optional) and `events` (optional here), the
    /// events being applied in order as by [`Ledger::apply`]. Errors name
    /// the document's records (`members[2].sponsor`, `events[5].amount`,
    /// the sixth record even after a repeated one).
    pub fn open_json(policy: &Policy, text: &str) -> Result<Ledger> {
        Ledger::open_with(policy, StreamDoc::from_json(text)?)
    }

    /// [`Ledger::open_json`] for a document given as a JSON value.
    pub fn open_value(policy: &Policy, doc: serde_json::Value) -> Result<Ledger> {
        Ledger::open_with(policy, StreamDoc::from_value(doc)?)
    }

    /// Open with the starting records, then apply `events` in order.
    fn open_with(policy: &Policy, doc: StreamDoc) -> Result<Ledger> {
        let mut ledger = Ledger::open(policy, doc.members, doc.groups)?;
        ledger.reserve(doc.events.len());
        // Errors name the document's records, as a batch's do.
        for (row, event) in doc.events.into_iter().enumerate() {
            let event = StreamEvent::from_value(event);
            let kept = match (&ledger.live, &event) {
                (Some(_), Ok(e)) => Some(e.clone()),
                _ => None,
            };
            let before = ledger.len();
            ledger.with_builder(|b| b.take_row(row, event))?;
            if let Some(e) = kept.filter(|_| ledger.len() > before) {
                ledger.sync(&e)?;
            }
        }
        ledger.settle_taken()?;
        Ok(ledger)
    }

    /// The batch of the events applied, the period closed.
    pub(crate) fn into_batch(self) -> Result<crate::Batch> {
        self.builder.finish()
    }

    /// The policy of the period.
    pub fn policy(&self) -> &Policy {
        self.builder.policy()
    }

    /// Events applied so far (a duplicate is not counted again).
    pub fn len(&self) -> usize {
        self.builder.stream_len()
    }

    /// Whether no event has been applied.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Room for `n` more events, so that the tables holding them are sized
    /// once instead of grown as events come (each growth remakes a table: a
    /// pause of one `apply`, see docs/ledger.md for its size). Optional: a
    /// service that expects a month's volume may call it
    /// when it opens the period; [`Ledger::restore`] calls it with the
    /// snapshot's count.
    pub fn reserve(&mut self, n: usize) {
        self.with_builder(|b| b.reserve_stream(n));
    }

    /// Change the builder, the live period's share of its event ids and
    /// rows given back first and lent again after (see
    /// [`Live::return_events`]): held by both, they would be copied to be
    /// changed.
    fn with_builder<T>(&mut self, change: impl FnOnce(&mut BatchBuilder<'static>) -> T) -> T {
        if let Some(live) = self.live.as_mut() {
            live.return_events();
        }
        let out = change(&mut self.builder);
        if let Some(live) = self.live.as_mut() {
            live.lend_events(&self.builder);
        }
        out
    }

    /// Apply the next event. An event whose id was applied before is a
    /// duplicate when its canonical form ([`StreamEvent::to_json`]) is the
    /// same (nothing changes; the answer is the first one's), else the error
    /// `event_conflict`. Any error leaves the ledger as it was. Error paths
    /// name the event's position in the stream: `events[i].amount`.
    ///
    /// In `immediate` timing the event is settled as it is applied, and the
    /// answer carries its lines ([`Applied::lines`]). Should that fail (a
    /// running sum beyond a decimal's range), the error is returned with
    /// the event kept, as a settlement of the period would fail on it too;
    /// later answers carry no lines.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 2, "rank_timing": "immediate",
    ///   "evaluate_ranks": true,
    ///   "ranks": [{"id": "member", "rate": "0.10"},
    ///             {"id": "owner", "rate": "0.20", "upgrade": {"metric": "sales", "gte": "100"}}],
    ///   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
    /// let mut ledger = fenrun::Ledger::open(&policy, vec![fenrun::input::MemberRecord::new("m1")], vec![])?;
    /// // 150.00 at the member's 10 %: 15.00; the sale makes m1 an owner (≥ 100).
    /// let first = ledger.apply_json(r#"{"id": "o1", "seller": "m1", "amount": "150.00"}"#)?;
    /// assert!(first.lines.unwrap().json()[0].contains(r#""amount":"15.00""#));
    /// // The next order pays the owner's 20 %: 50.00 × 0.20 = 10.00.
    /// let next = ledger.apply_json(r#"{"id": "o2", "seller": "m1", "amount": "50.00"}"#)?;
    /// assert!(next.lines.unwrap().json()[0].contains(r#""amount":"10.00""#));
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn apply(&mut self, event: &StreamEvent) -> Result<Applied> {
        let position = self.len();
        let answer = self.live.as_ref().map(|l| l.taken());
        let first = self.take_new(event)?;
        let lines = match (first, answer) {
            (None, Some(answer)) => Some(self.settle_live(answer)?),
            _ => None,
        };
        Ok(Applied::of(position, first, lines))
    }

    /// [`Ledger::apply`] without the event's lines: in `immediate` timing
    /// the event is settled later, with the others taken, by the next
    /// [`Ledger::apply`] or [`Ledger::catch_up`], which report an error
    /// settling it. Many events taken then caught up once settle faster
    /// than applied one by one (each order's chain is asked for while the
    /// one before it is settled, as in a batch): what
    /// [`Ledger::apply_json_lines`] and [`Ledger::restore`] do. In
    /// `period_end` timing it is [`Ledger::apply`].
    ///
    /// ```
    /// use fenrun::input::StreamEvent;
    /// let policy = fenrun::Policy::from_json(r#"{"version": 2, "rank_timing": "immediate",
    ///   "ranks": [{"id": "member", "rate": "0.10"}],
    ///   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
    /// let mut ledger = fenrun::Ledger::open(&policy, vec![fenrun::input::MemberRecord::new("m1")], vec![])?;
    /// for (id, amount) in [("o1", "50.00"), ("o2", "20.00")] {
    ///     let order = format!(r#"{{"id": "{id}", "seller": "m1", "amount": "{amount}"}}"#);
    ///     assert_eq!(ledger.take(&StreamEvent::from_json(&order)?)?.lines, None);
    /// }
    /// // Their lines, settled together: 5.00 and 2.00.
    /// assert_eq!(ledger.catch_up()?.map_or(0, |lines| lines.len()), 2);
    /// let totals_only = fenrun::SettleOptions::default().lines(fenrun::Lines::TotalsOnly);
    /// let totals = ledger.settlement_with(totals_only)?;
    /// assert_eq!(totals.total_of("m1").unwrap().to_string(), "7.00");
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn take(&mut self, event: &StreamEvent) -> Result<Applied> {
        let position = self.len();
        let first = self.take_new(event)?;
        Ok(Applied::of(position, first, None))
    }

    /// [`Ledger::take`] for an event given as JSON text (see
    /// [`Ledger::apply_json`]).
    pub fn take_json(&mut self, text: &str) -> Result<Applied> {
        let event = StreamEvent::from_json(text).map_err(|e| self.builder.name_event(e))?;
        self.take(&event)
    }

    /// [`Ledger::take`] for an event given as a JSON value.
    fn take_value(&mut self, value: serde_json::Value) -> Result<Applied> {
        let event = StreamEvent::from_value(value).map_err(|e| self.builder.name_event(e))?;
        self.take(&event)
    }

    /// In `immediate` timing, settle every event taken by [`Ledger::take`]
    /// and not settled yet: their lines, in output order (what their
    /// answers would have carried, end to end). Should that fail (a running
    /// sum beyond a decimal's range), the error is returned with the events
    /// kept, as for [`Ledger::apply`]. `None` in `period_end` timing or
    /// once a step failed: nothing is settled before the period is. The
    /// lines are held until returned: catch up every few thousand events,
    /// not once a month.
    pub fn catch_up(&mut self) -> Result<Option<EventLines>> {
        match self.live.as_ref().map(|l| l.next()) {
            Some(next) => self.settle_live(next).map(Some),
            None => Ok(None),
        }
    }

    /// [`Ledger::catch_up`] without the lines (none is held).
    fn settle_taken(&mut self) -> Result<()> {
        match self.live.as_ref().map(|l| l.taken()) {
            Some(taken) => self.settle_live(taken).map(drop),
            None => Ok(()),
        }
    }

    /// Take `event`: the first application's position if it is a repeat.
    /// A new event brings the live period's batch up to it.
    fn take_new(&mut self, event: &StreamEvent) -> Result<Option<usize>> {
        let first = self.with_builder(|b| b.take_event(event))?;
        if first.is_none() {
            self.sync(event)?;
        }
        Ok(first)
    }

    /// The live period, if any, brought up to `event`, just taken. A
    /// failure drops the live period (see [`Ledger::apply`]).
    fn sync(&mut self, event: &StreamEvent) -> Result<()> {
        let Some(live) = self.live.as_mut() else {
            return Ok(());
        };
        live.sync(&self.builder, event)
            .inspect_err(|_| self.live = None)
    }

    /// Settle the live period's events taken and not settled: the lines of
    /// those from `answer` on (their index among orders and refunds). A
    /// failure drops the live period (see [`Ledger::apply`]).
    fn settle_live(&mut self, answer: usize) -> Result<EventLines> {
        let Some(live) = self.live.as_mut() else {
            return Ok(EventLines::default());
        };
        live.catch_up(answer).inspect_err(|_| self.live = None)
    }

    /// Apply the next event given as JSON text (a line of an event stream);
    /// see [`Ledger::apply`]. A parse error's path is the event's too
    /// (`events[i].amount`).
    pub fn apply_json(&mut self, text: &str) -> Result<Applied> {
        let event = StreamEvent::from_json(text).map_err(|e| self.builder.name_event(e))?;
        self.apply(&event)
    }

    /// Apply the events of JSON Lines text in order (blank lines skipped).
    /// A refused event returns its error: the events before it stay
    /// applied; it and the ones after it are not.
    pub fn apply_json_lines(&mut self, text: &str) -> Result<Tally> {
        self.take_lines(text, false)
    }

    /// The events of JSON Lines text taken, then settled together; with
    /// `objects`, each made from a JavaScript object (money as strings).
    fn take_lines(&mut self, text: &str, objects: bool) -> Result<Tally> {
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        self.take_each(|ledger| {
            let line = lines.next()?;
            Some(match objects {
                true => ledger.object_json(line).and_then(|v| ledger.take_value(v)),
                false => ledger.take_json(line),
            })
        })
    }

    /// Apply events in order, as [`Ledger::apply_json_lines`] does (taken,
    /// then settled together).
    pub fn apply_events(&mut self, events: impl IntoIterator<Item = StreamEvent>) -> Result<Tally> {
        let mut events = events.into_iter();
        self.take_each(|ledger| events.next().map(|e| ledger.take(&e)))
    }

    /// [`Ledger::apply_events`] for events given as JSON values (a
    /// binding's dicts).
    pub fn apply_values(
        &mut self,
        events: impl IntoIterator<Item = serde_json::Value>,
    ) -> Result<Tally> {
        let mut events = events.into_iter();
        self.take_each(|ledger| events.next().map(|v| ledger.take_value(v)))
    }

    /// Take each event `next` gives until it gives none or one is refused,
    /// then settle them: a refused event's error comes first.
    fn take_each(
        &mut self,
        mut next: impl FnMut(&mut Ledger) -> Option<Result<Applied>>,
    ) -> Result<Tally> {
        let mut tally = Tally::default();
        let mut refused = None;
        while let Some(applied) = next(self) {
            match applied {
                Ok(applied) => tally.count(&applied),
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        let caught = self.settle_taken();
        match refused {
            Some(e) => Err(e),
            None => caught.map(|()| tally),
        }
    }

    /// [`Ledger::apply_json`] for an event that came from a JavaScript
    /// object, whose numbers are binary floats: money given as a number is
    /// refused (`number_money`), as [`crate::input::require_string_money`]
    /// refuses it in a batch.
    pub fn apply_object_json(&mut self, text: &str) -> Result<Applied> {
        let value = self.object_json(text)?;
        self.apply_value(value)
    }

    /// [`Ledger::apply_json_lines`] for JSON Lines text made from
    /// JavaScript objects, one event a line: each event's money must be a
    /// string, as for [`Ledger::apply_object_json`]. The events are taken,
    /// then settled together; a refused event returns its error, the events
    /// before it staying applied.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 2, "rank_timing": "immediate",
    ///   "ranks": [{"id": "member", "rate": "0.10"}],
    ///   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
    /// let mut ledger = fenrun::Ledger::open(&policy, vec![fenrun::input::MemberRecord::new("m1")], vec![])?;
    /// let order = r#"{"id": "o1", "seller": "m1", "amount": "50.00"}"#;
    /// let tally = ledger.apply_object_json_lines(&format!("{order}\n{order}\n"))?;
    /// assert_eq!((tally.applied, tally.duplicates), (1, 1));
    /// // A number is a binary float: refused, and the events before it stay.
    /// let err = ledger
    ///     .apply_object_json_lines(concat!(
    ///         r#"{"id": "o2", "seller": "m1", "amount": "20.00"}"#, "\n",
    ///         r#"{"id": "o3", "seller": "m1", "amount": 0.1}"#,
    ///     ))
    ///     .unwrap_err();
    /// assert_eq!((err.code(), err.path()), ("number_money", "events[2].amount"));
    /// assert_eq!(ledger.settlement()?.total_of("m1").unwrap().to_string(), "7.00");
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn apply_object_json_lines(&mut self, text: &str) -> Result<Tally> {
        self.take_lines(text, true)
    }

    /// The next event, given as JSON text made from a JavaScript object,
    /// as a value if its money is given as strings.
    fn object_json(&self, text: &str) -> Result<serde_json::Value> {
        let value = crate::doc::from_str(text).map_err(|e| self.builder.name_event(e))?;
        crate::input::require_string_money_event(&value).map_err(|e| self.builder.name_event(e))?;
        Ok(value)
    }

    /// Apply the next event given as a JSON value (a binding's dict).
    pub fn apply_value(&mut self, value: serde_json::Value) -> Result<Applied> {
        let event = StreamEvent::from_value(value).map_err(|e| self.builder.name_event(e))?;
        self.apply(&event)
    }

    /// The period so far as an [`Engine`] (ranks evaluated, rules prepared):
    /// for explanations, measures, or a settlement with options.
    pub fn engine(&self) -> Result<Engine> {
        Engine::new(self.policy(), self.builder.to_batch()?)
    }

    /// The rank changes of the period so far (`period_end` timing: the
    /// evaluation of the events so far, as a settlement now would report
    /// them), without settling.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 2, "evaluate_ranks": true,
    ///   "ranks": [{"id": "member"}, {"id": "owner", "rate": "0.10",
    ///             "upgrade": {"metric": "sales", "gte": "100"}}]}"#)?;
    /// let mut ledger = fenrun::Ledger::open(&policy, vec![fenrun::input::MemberRecord::new("m1")], vec![])?;
    /// assert!(ledger.rank_changes()?.is_empty());
    /// ledger.apply_json(r#"{"id": "o1", "seller": "m1", "amount": "150.00"}"#)?;
    /// assert_eq!(&*ledger.rank_changes()?[0].to, "owner");
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn rank_changes(&self) -> Result<Vec<crate::RankChange>> {
        if let Some(live) = self.live.as_ref().filter(|l| l.is_current()) {
            return Ok(live.ranking(&self.builder)?.1.changes);
        }
        let batch = self.builder.to_batch()?;
        Ok(crate::running::ranking(self.policy(), &batch)?.0.changes)
    }

    /// [`Ledger::rank_changes`] as the canonical JSON document
    /// `{"rank_changes": [...]}` (what `fenrun ranks` prints).
    pub fn rank_changes_json(&self) -> Result<String> {
        Ok(crate::output::ranks_json(&self.rank_changes()?))
    }

    /// The settlement of the events so far, as if the period closed now;
    /// the ledger stays open.
    pub fn settlement(&self) -> Result<Settlement> {
        self.engine()?.settle()
    }

    /// [`Ledger::settlement`] with options (lines kept or not, threads).
    /// In `immediate` timing a totals-only settlement (without `as_of`) is
    /// finished from the state the ledger keeps, without settling the
    /// events again; any other settles them again, as a batch.
    pub fn settlement_with(&self, options: SettleOptions) -> Result<Settlement> {
        let live = self.live.as_ref().filter(|l| l.is_current());
        if let (Some(live), Lines::TotalsOnly, None) = (live, options.lines, options.as_of) {
            return live.totals(&self.builder);
        }
        self.engine()?.settle_with(options)
    }

    /// The lines of the events applied from stream position `from` on (their
    /// order lines and reversals), in the settlement of the period so far,
    /// as JSON Lines: each line's canonical JSON (§9), in output order. What
    /// a service shows for the events it has just applied. In `immediate`
    /// rank timing they are final (§14: pools and member caps, which belong
    /// to no event, come at close); in `period_end` timing they stand as the
    /// period does now and may change until it closes.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 2, "rank_timing": "immediate",
    ///   "ranks": [{"id": "member", "rate": "0.10"}],
    ///   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
    /// let mut ledger = fenrun::Ledger::open(&policy, vec![fenrun::input::MemberRecord::new("m1")], vec![])?;
    /// ledger.apply_json(r#"{"id": "o1", "seller": "m1", "amount": "50.00"}"#)?;
    /// let from = ledger.len();
    /// ledger.apply_json(r#"{"id": "o2", "seller": "m1", "amount": "20.00"}"#)?;
    /// assert_eq!(
    ///     ledger.lines_since_json(from)?,
    ///     "{\"order\":\"o2\",\"rule\":\"spread\",\"kind\":\"differential\",\"beneficiary\":\"m1\",\"level\":0,\"base\":\"20.00\",\"rate\":\"0.1\",\"amount\":\"2.00\"}\n"
    /// );
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn lines_since_json(&self, from: usize) -> Result<String> {
        if from >= self.len() {
            return Ok(String::new());
        }
        Ok(self.lines_since(from)?.1)
    }

    /// [`Ledger::lines_since_json`] with the settlement of the period so far
    /// that it came from, without its lines (totals, rank changes, summary):
    /// one settlement where a caller wants both.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 2, "rank_timing": "immediate",
    ///   "ranks": [{"id": "member", "rate": "0.10"}],
    ///   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
    /// let mut ledger = fenrun::Ledger::open(&policy, vec![fenrun::input::MemberRecord::new("m1")], vec![])?;
    /// ledger.apply_json(r#"{"id": "o1", "seller": "m1", "amount": "50.00"}"#)?;
    /// let (settlement, lines) = ledger.lines_since(1)?;
    /// assert_eq!((settlement.total_of("m1").unwrap().to_string(), lines.as_str()), ("5.00".into(), ""));
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn lines_since(&self, from: usize) -> Result<(Settlement, String)> {
        let ids: std::collections::HashSet<&str> = (from..self.len())
            .map(|k| self.builder.stream_id(k))
            .collect();
        let mut out = String::new();
        // The period's lines stream past in blocks: only the asked ones are
        // kept, not every line of the period.
        let engine = self.engine()?;
        let scale = engine.scale();
        let stream = SettleOptions::default().lines(Lines::Stream);
        let settlement = engine.settle_to(stream, |line| {
            // A reversal is its refund's line, any other line its order's.
            if line.refund.or(line.order).is_some_and(|e| ids.contains(e)) {
                out.push_str(&crate::output::line_json(line, scale));
                out.push('\n');
            }
            Ok(())
        })?;
        Ok((settlement, out))
    }

    /// Close the period: its settlement.
    pub fn close(self) -> Result<Settlement> {
        self.into_engine()?.settle()
    }

    /// Close the period as an [`Engine`] (ranks evaluated, rules prepared),
    /// for a settlement with options: [`Ledger::engine`] without a copy of
    /// the period's events.
    pub fn into_engine(self) -> Result<Engine> {
        let policy = self.policy().clone();
        Engine::new(&policy, self.into_batch()?)
    }

    /// The ledger as bytes, to be given back to [`Ledger::restore`] (in this
    /// process or another, in any language's binding). UTF-8 text, a record a
    /// line (docs/ledger.md): `fenrun-ledger-snapshot 1`; a header
    /// `{"policy", "members", "groups", "events"}` (the policy's
    /// [fingerprint](Policy::fingerprint) and the counts); the starting
    /// members, the starting groups and the events applied, each as
    /// canonical JSON; and `sha256:` with the hex digest of every byte before
    /// that last line.
    pub fn snapshot(&self) -> Vec<u8> {
        let header = serde_json::json!({
            "policy": self.policy().fingerprint(),
            "members": self.members,
            "groups": self.groups,
            "events": self.len(),
        });
        let mut out = format!("{MAGIC} {SNAPSHOT_VERSION}\n{header}\n{}", self.start).into_bytes();
        self.builder.write_stream_texts(&mut out);
        let digest = {
            use sha2::Digest;
            sha2::Sha256::digest(&out)
        };
        out.extend_from_slice(crate::doc::hex(CHECKSUM, &digest).as_bytes());
        out.push(b'\n');
        out
    }

    /// A ledger from a snapshot of a ledger of `policy`. Bytes that are not a
    /// whole snapshot of version 1 (corrupt, truncated) are the error
    /// `invalid_snapshot`; a snapshot of another policy is
    /// `foreign_snapshot`.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 2, "ranks": [{"id": "member"}]}"#)?;
    /// let ledger = fenrun::Ledger::open(&policy, vec![], vec![])?;
    /// let bytes = ledger.snapshot();
    /// let err = fenrun::Ledger::restore(&policy, &bytes[..bytes.len() - 2]).unwrap_err();
    /// assert_eq!(err.code(), "invalid_snapshot");
    /// let other = fenrun::Policy::from_json(r#"{"version": 2, "ranks": [{"id": "m"}]}"#)?;
    /// assert_eq!(fenrun::Ledger::restore(&other, &bytes).unwrap_err().code(), "foreign_snapshot");
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn restore(policy: &Policy, bytes: &[u8]) -> Result<Ledger> {
        let bad = |line: usize, detail: String| Error::InvalidSnapshot {
            path: if line == 0 {
                "snapshot".to_owned()
            } else {
                format!("snapshot line {line}")
            },
            detail,
        };
        let text = std::str::from_utf8(bytes)
            .map_err(|e| bad(0, format!("not UTF-8 text (at byte {})", e.valid_up_to())))?;
        let first = text.split('\n').next().unwrap_or("");
        let version = first
            .strip_prefix(MAGIC)
            .and_then(|v| v.strip_prefix(' '))
            .ok_or_else(|| bad(1, format!("it does not begin with \"{MAGIC}\"")))?;
        if version != SNAPSHOT_VERSION.to_string() {
            return Err(bad(
                1,
                format!("snapshot version {version}; this fenrun reads version {SNAPSHOT_VERSION}"),
            ));
        }
        let body = text
            .strip_suffix('\n')
            .and_then(|t| t.rsplit_once('\n'))
            .filter(|(_, last)| last.starts_with(CHECKSUM))
            .ok_or_else(|| {
                bad(
                    0,
                    "truncated: it does not end with its checksum line".into(),
                )
            })?;
        let (content, sum) = body;
        let digest = {
            use sha2::Digest;
            let mut hasher = sha2::Sha256::new();
            hasher.update(content.as_bytes());
            hasher.update(b"\n");
            hasher.finalize()
        };
        if crate::doc::hex(CHECKSUM, &digest) != sum {
            return Err(bad(
                0,
                "its checksum does not match its content (corrupt or truncated)".into(),
            ));
        }
        let mut lines = content.split('\n').enumerate().skip(1);
        let (_, header) = lines.next().unwrap_or((1, ""));
        let header: Header = crate::doc::from_str(header).map_err(|e| bad(2, e.to_string()))?;
        if header.policy != policy.fingerprint() {
            return Err(Error::ForeignSnapshot {
                path: "snapshot".into(),
                expected: policy.fingerprint().to_owned(),
                found: header.policy,
            });
        }
        // Each record takes a line of the text: a count above that is not
        // trusted with an allocation.
        let mut members = Vec::with_capacity(header.members.min(content.len()));
        let mut groups = Vec::with_capacity(header.groups.min(content.len()));
        let mut events = 0;
        let mut take = |n: usize| lines.by_ref().take(n).collect::<Vec<_>>();
        for (k, line) in take(header.members) {
            members.push(
                crate::doc::from_str::<MemberRecord>(line)
                    .map_err(|e| bad(k + 1, e.to_string()))?,
            );
        }
        for (k, line) in take(header.groups) {
            groups.push(
                crate::doc::from_str::<GroupRecord>(line).map_err(|e| bad(k + 1, e.to_string()))?,
            );
        }
        if members.len() != header.members || groups.len() != header.groups {
            return Err(bad(
                0,
                "it holds fewer records than its header counts".into(),
            ));
        }
        let mut ledger =
            Ledger::open(policy, members, groups).map_err(|e| bad(0, e.to_string()))?;
        ledger.reserve(header.events.min(content.len()));
        for (k, line) in lines {
            let applied = ledger
                .take_json(line)
                .map_err(|e| bad(k + 1, e.to_string()))?;
            if applied.duplicate {
                return Err(bad(k + 1, "an event repeated".into()));
            }
            events += 1;
        }
        // A period that failed to settle an event kept it and went on
        // without its live state (see `apply`): so does the restored one.
        ledger.settle_taken().ok();
        if events != header.events {
            return Err(bad(
                0,
                format!(
                    "it holds {events} events, its header counts {}",
                    header.events
                ),
            ));
        }
        Ok(ledger)
    }
}

/// A snapshot's second line.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    policy: String,
    members: usize,
    groups: usize,
    events: usize,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::Ledger;
    use crate::input::MemberRecord;
    use crate::Policy;

    fn order(id: &str, amount: &str) -> String {
        format!(r#"{{"id": "{id}", "seller": "m1", "amount": "{amount}"}}"#)
    }

    /// The live period reads the builder's event ids and rows, not a copy
    /// of them, through accepted and rejected events; a batch kept out of
    /// the ledger keeps the events it was made with while the ledger goes on.
    #[test]
    fn the_live_period_shares_the_builders_event_ids() {
        let policy = Policy::from_json(
            r#"{"version": 2, "rank_timing": "immediate",
              "ranks": [{"id": "member", "rate": "0.10"}],
              "rules": [{"id": "spread", "type": "differential"}]}"#,
        )
        .unwrap();
        let mut ledger = Ledger::open(&policy, vec![MemberRecord::new("m1")], vec![]).unwrap();
        let shared = |l: &Ledger, n: usize| {
            let (ids, events) = l.live.as_ref().unwrap().events();
            let (own_ids, own_events) = l.builder.shared_events();
            assert_eq!((ids.len(), events.len()), (n, n));
            Arc::ptr_eq(ids, &own_ids) && Arc::ptr_eq(events, &own_events)
        };
        ledger.apply_json(&order("o1", "50.00")).unwrap();
        ledger.apply_json(&order("o2", "20.00")).unwrap();
        assert!(shared(&ledger, 2));
        // Rejected: a seller no one knows; a refund of more than the order.
        let unknown = r#"{"id": "o3", "seller": "m9", "amount": "1.00"}"#;
        assert!(ledger.apply_json(unknown).is_err());
        let over = r#"{"id": "r1", "refund_of": "o2", "amount": "20.01"}"#;
        assert!(ledger.apply_json(over).is_err());
        assert!(shared(&ledger, 2));
        // A batch made now holds the two ids; the ledger's third is its own.
        let engine = ledger.engine().unwrap();
        let lines = ledger
            .apply_json(&order("o3", "30.00"))
            .unwrap()
            .lines
            .unwrap();
        assert_eq!(lines.json_lines().matches("\"order\":\"o3\"").count(), 1);
        assert!(shared(&ledger, 3));
        assert_eq!(engine.batch().event_ids.len(), 2);
        assert_eq!(engine.batch().events.len(), 2);
        let refund = r#"{"id": "r1", "refund_of": "o3", "amount": "30.00"}"#;
        let lines = ledger.apply_json(refund).unwrap().lines.unwrap();
        assert_eq!(lines.json_lines().matches("\"refund\":\"r1\"").count(), 1);
        assert!(shared(&ledger, 4));
    }
}
