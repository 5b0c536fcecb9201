//! The validated batch (§2): members in a forest, groups, and events in input
//! order, every reference resolved to a dense index. Validation is complete
//! before anything is computed, so nothing is ever half-applied.

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::event_ids::EventIds;
use crate::events::Events;
pub(crate) use crate::events::{Event, Order, Refund};
use crate::graph::{Forest, NONE};
use crate::hold::{HoldFrom, Times, Timestamp};
use crate::index::{IdIndex, Inline, Packed};
use crate::input::{EventColumns, GroupRecord, MemberRecord};
use crate::money::{decimals_by_value, short_string};

/// Hash maps over ids from the input: foldhash (randomly seeded per map) is several
/// times faster than SipHash on short ids, which dominate loading a large batch.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

fn map_with_capacity<K, V>(n: usize) -> HashMap<K, V> {
    HashMap::with_capacity_and_hasher(n, foldhash::fast::RandomState::default())
}
use crate::ids::{idx32, RankIdx};
use crate::policy::Policy;

pub(crate) mod stream;
pub(crate) use stream::Joining;

/// A group owned by a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Group {
    pub owner: u32,
    pub size: u64,
}

/// A validated batch for one policy. Build it with [`Batch::from_json`].
///
/// It holds what that policy reads: ranks as indices into its ladder, amounts
/// at its scale, and orders' buyers resolved to members only when it reads
/// `purchases`. Settle it with that policy; a policy that reads purchases over
/// a batch validated without them is refused (`invalid_value`).
#[derive(Debug, Clone)]
pub struct Batch {
    /// Member ids end to end in one buffer (no `String` per member).
    pub(crate) ids: Arc<Packed>,
    /// Event ids end to end in one buffer (no `String` per event).
    pub(crate) event_ids: Arc<Packed>,
    pub(crate) forest: Forest,
    pub(crate) input_rank: Vec<RankIdx>,
    pub(crate) input_active: Vec<bool>,
    /// Attributes of the members that have any, by member index (ascending).
    pub(crate) attrs: Vec<(u32, BTreeMap<String, Decimal>)>,
    pub(crate) groups: Vec<Group>,
    pub(crate) events: Arc<Events>,
    /// Whether orders' buyers were resolved to members: only when the policy
    /// reads purchases, the one use of a member buyer besides standing in for
    /// an absent seller (otherwise every order's `buyer` is [`NONE`]).
    pub(crate) buyers: bool,
    /// The orders' categories, in order of first appearance: code `k + 1`
    /// is `categories[k]`.
    pub(crate) categories: Vec<String>,
    /// The instants the policy's hold period reads (§14.1), when it has one.
    pub(crate) times: Option<Arc<Times>>,
    /// What a stream's member and group events changed (§14), in stream
    /// order: the members, groups and tree above are those after the last.
    pub(crate) log: Vec<Change>,
}

/// A change one member or group event of a stream made (§14).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    /// Orders and refunds before it: the events from this index on come after it.
    pub before: u32,
    /// The id of the event that made it (an event may make several).
    pub event: Box<str>,
    pub what: What,
}

/// What a [`Change`] changed, with the value before it where it had one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum What {
    /// A member joined (its index): its sponsor, rank, activity and
    /// attributes were those its event gave, the ones the changes after it
    /// replace.
    Join(u32),
    /// A member moved to another sponsor ([`NONE`]: none).
    Move { member: u32, from: u32, to: u32 },
    /// A member's `active` was given.
    Active { member: u32, from: bool, to: bool },
    /// A member's `attrs` were given (`None`: none).
    Attrs {
        member: u32,
        from: Option<BTreeMap<String, Decimal>>,
        to: Option<BTreeMap<String, Decimal>>,
    },
    /// A group (its index) was created (`from` is `None`) or replaced.
    Group {
        group: u32,
        from: Option<Group>,
        to: Group,
    },
}

/// A member moved to another sponsor between two orders or refunds (§14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Move {
    /// Orders and refunds before the move: the events from this index on
    /// see the member under its new sponsor.
    pub before: u32,
    pub member: u32,
    /// Its sponsor before the move ([`NONE`]: a root).
    pub from: u32,
}

impl Batch {
    /// Parse and validate a batch against `policy` (its ranks and rounding scale).
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}]}"#).unwrap();
    /// let err = fenrun::Batch::from_json(
    ///     r#"{"members": [{"id": "m1"}, {"id": "m2", "sponsor": "m9"}], "events": []}"#,
    ///     &policy,
    /// ).unwrap_err();
    /// assert_eq!(err.code(), "unknown_sponsor");
    /// assert_eq!(err.to_string(), r#"members[1].sponsor: member "m2" names unknown sponsor "m9""#);
    /// ```
    ///
    /// Under a version-2 policy the `events` may be any event of a ledger's
    /// stream (§14: member and group events, `received`), and an event
    /// repeated with the same content is applied once (§14.2): such a
    /// document is read as a ledger reads it, event by event.
    pub fn from_json(text: &str, policy: &Policy) -> Result<Batch> {
        match crate::doc::from_str(text).and_then(|doc| Batch::from_doc(doc, policy)) {
            Err(e) if reads_as_stream(policy, &e) => {
                BatchBuilder::stream_batch(policy, stream::StreamDoc::from_json(text)?)
            }
            other => other,
        }
    }

    /// Parse and validate a batch from JSON bytes (must be UTF-8).
    pub fn from_slice(bytes: &[u8], policy: &Policy) -> Result<Batch> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Batch::from_json(text, policy),
            Err(_) => Batch::from_doc(crate::doc::from_slice(bytes)?, policy),
        }
    }

    /// Validate a batch given as a parsed JSON value (see
    /// [`Batch::from_json`] for a version-2 policy's events).
    pub fn from_value(value: serde_json::Value, policy: &Policy) -> Result<Batch> {
        if policy.version() < 2 {
            return Batch::from_doc(crate::doc::from_value(value)?, policy);
        }
        match crate::doc::from_value(value.clone()).and_then(|doc| Batch::from_doc(doc, policy)) {
            Err(e) if reads_as_stream(policy, &e) => {
                BatchBuilder::stream_batch(policy, stream::StreamDoc::from_value(value)?)
            }
            other => other,
        }
    }

    /// Validate a batch given as typed records (a columnar reader's or a
    /// binding's output); see [`crate::input`].
    pub fn from_records(records: crate::input::BatchRecords, policy: &Policy) -> Result<Batch> {
        let events = records.events.as_slice();
        Batch::from_columns(records.members, &records.groups, events, policy)
    }

    /// Number of members.
    pub fn member_count(&self) -> usize {
        self.ids.len()
    }

    /// Number of events (orders and refunds).
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// Member `m`'s attribute `name`, if it has it.
    /// The members moved by the stream's member events, in stream order.
    pub(crate) fn moves(&self) -> impl DoubleEndedIterator<Item = Move> + '_ {
        self.log.iter().filter_map(|c| match c.what {
            What::Move { member, from, .. } => Some(Move {
                before: c.before,
                member,
                from,
            }),
            _ => None,
        })
    }

    pub(crate) fn id(&self, m: u32) -> &str {
        self.ids.get(m)
    }

    /// The batch document as written (§2.4): its serde shapes are the public
    /// records. A repeated id is `duplicate_event` here: a version-2
    /// document with one is read again as a stream ([`Batch::from_json`]).
    fn from_doc(doc: crate::input::BatchRecords, policy: &Policy) -> Result<Batch> {
        let mut builder = BatchBuilder::new(doc.members, &doc.groups, policy)?;
        builder.push_events(doc.events.as_slice())?;
        builder.finish()
    }

    /// Validate members and groups given as records and events given by column
    /// (see [`EventColumns`]): a columnar reader's path, with no record per event.
    /// Codes and paths are those of [`Batch::from_records`].
    pub fn from_columns<E: EventColumns + Sync + ?Sized>(
        members: Vec<MemberRecord>,
        group_rows: &[GroupRecord],
        event_rows: &E,
        policy: &Policy,
    ) -> Result<Batch> {
        Batch::from_columns_on(members, group_rows, event_rows, policy, 1)
    }

    /// [`Batch::from_columns`] on up to `threads` threads: with two or more,
    /// sellers and buyers are resolved on a second thread while the event ids
    /// are indexed. The batch and any error are the same as on one thread.
    pub fn from_columns_on<E: EventColumns + Sync + ?Sized>(
        members: Vec<MemberRecord>,
        group_rows: &[GroupRecord],
        event_rows: &E,
        policy: &Policy,
        threads: usize,
    ) -> Result<Batch> {
        let mut builder = BatchBuilder::new(members, group_rows, policy)?.threads(threads);
        let pushed = builder.push_events(event_rows);
        match builder.finish_or_again(pushed)? {
            Finished::Batch(batch) => Ok(batch),
            Finished::Again(mut again) => {
                again.push_events(event_rows)?;
                again.finish()
            }
        }
    }
}

/// A batch validated as its events arrive, chunk after chunk (a Parquet file's
/// row groups, say), so that a reader need not hold every event's columns at
/// once. The batch, and the error if any, are those of [`Batch::from_columns`]
/// over all the chunks' rows end to end: members and groups first, then event
/// ids (empty, duplicate) anywhere, then each event's own checks in input
/// order, then sponsor cycles. Members' and groups' errors are returned by
/// [`BatchBuilder::new`], an empty id's when its chunk is pushed (or an
/// earlier duplicate's, if there is one), the others by
/// [`BatchBuilder::finish`]: duplicates and the orders of refunds are found
/// there, all at once.
///
/// ```
/// use fenrun::input::{EventRecord, MemberRecord};
/// use rust_decimal::Decimal;
/// let policy = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member", "rate": "0.1"}],
///   "rules": [{"id": "d", "type": "differential"}]}"#)?;
/// let mut builder = fenrun::BatchBuilder::new(vec![MemberRecord::new("m1")], &[], &policy)?;
/// builder.push_events(&[EventRecord::order("o1", Some("m1"), None, Decimal::new(1000, 2))][..])?;
/// builder.push_events(&[EventRecord::refund("r1", "o1", Decimal::new(250, 2))][..])?;
/// let batch = builder.finish()?;
/// assert_eq!(batch.event_count(), 2);
/// // 0.1 × (10.00 − 2.50)
/// assert_eq!(fenrun::settle(&policy, batch)?.total_of("m1").unwrap().to_string(), "0.75");
/// # Ok::<(), fenrun::Error>(())
/// ```
#[derive(Debug)]
pub struct BatchBuilder<'p> {
    policy: std::borrow::Cow<'p, Policy>,
    threads: usize,
    member_names: Packed,
    member_index: IdIndex<Inline>,
    parent: Vec<u32>,
    input_rank: Vec<RankIdx>,
    input_active: Vec<bool>,
    groups: Vec<Group>,
    attrs: Vec<(u32, BTreeMap<String, Decimal>)>,
    /// Every event's id, checked and looked up by refunds at the end.
    ids: EventIds,
    /// Every event's id in input order: lent to a batch made while events
    /// still come (a ledger's live period, [`BatchBuilder::to_batch`]),
    /// copied only if a batch still holds it when the next one comes.
    names: Arc<Packed>,
    /// The position of every refund, in input order (checked or not).
    refund_rows: Vec<u32>,
    /// The refunds that passed their own checks, whose order is found and
    /// checked at the end: their positions and the orders they name.
    pending: Vec<u32>,
    pending_of: Packed,
    /// The events checked, in input order: shared as `names` is.
    events: Arc<Events>,
    /// Resolve every order's buyer (see [`Batch`]'s `buyers`).
    buyers: bool,
    /// The first event that failed its own checks (refunds' orders aside):
    /// later chunks only have their ids read (an id error anywhere comes
    /// first, and a refund's error if it comes earlier).
    failed: Option<Error>,
    /// The orders' categories so far, by code − 1, and their codes.
    categories: Vec<String>,
    category_codes: HashMap<String, u16>,
    /// What a builder taking events one at a time keeps (see `stream`).
    stream: Option<Box<stream::Stream>>,
    /// The events' instants, when the policy has a hold period.
    times: Option<Times>,
    /// What the stream's member and group events changed so far.
    log: Vec<Change>,
}

/// What [`BatchBuilder::finish_or_again`] gives.
#[derive(Debug)]
// Made once a batch: moved, never kept in a collection.
#[allow(clippy::large_enum_variant)]
pub enum Finished {
    /// The validated batch.
    Batch(Batch),
    /// The events repeat an id under a version-2 policy (§14.2): push the
    /// same rows again, in the same order, into this builder, then finish it.
    Again(RowBuilder),
}

/// A batch's members and groups taking its orders and refunds again, a row
/// at a time as a ledger takes events (§14.2): a row repeating an earlier
/// row's content counts once, a repeated id with other content is
/// `event_conflict`, and the first error is returned at once, naming its
/// row. Given by [`BatchBuilder::finish_or_again`].
#[derive(Debug)]
pub struct RowBuilder(BatchBuilder<'static>);

impl RowBuilder {
    /// Room for `n` more rows.
    pub fn reserve(&mut self, n: usize) {
        self.0.reserve_stream(n);
    }

    /// Take the next chunk of rows (numbered on from the last chunk's).
    pub fn push_events<E: EventColumns + ?Sized>(&mut self, docs: &E) -> Result<()> {
        self.0.take_rows(docs)
    }

    /// The batch of the rows taken.
    pub fn finish(self) -> Result<Batch> {
        self.0.finish()
    }
}

/// Member `m`'s attribute `name` in a table of attributes by member (ascending).
pub(crate) fn attr_of(
    attrs: &[(u32, BTreeMap<String, Decimal>)],
    m: u32,
    name: &str,
) -> Option<Decimal> {
    let k = attrs.binary_search_by_key(&m, |(i, _)| *i).ok()?;
    attrs.get(k)?.1.get(name).copied()
}

/// Marks a seller or buyer name that is not a member. Member indices stop
/// below `NONE - 1` (the member limit), so it is free.
const UNKNOWN: u32 = NONE - 1;

impl<'p> BatchBuilder<'p> {
    /// Validate members and groups (their codes and paths are those of
    /// [`Batch::from_records`]); events come next.
    pub fn new(
        members: Vec<MemberRecord>,
        group_rows: &[GroupRecord],
        policy: &'p Policy,
    ) -> Result<BatchBuilder<'p>> {
        let n = members.len();
        if u32::try_from(n).map_or(true, |n| n == NONE) {
            return Err(Error::LimitExceeded {
                path: "members".into(),
                detail: format!("{n} members is above the limit of {}", NONE - 1),
            });
        }
        let packed = Packed::new(members.iter().map(|m| m.id.as_str()));
        let member_name = |i: u32| packed.get(i);
        // Looked up twice an order: short member ids are kept in the table.
        let mut index = IdIndex::<Inline>::with_capacity(n);
        let member_id = |i: usize| members.get(i).map_or("", |m| m.id.as_str());
        index.insert_all(
            0,
            n,
            |i| Ok(member_id(i)),
            member_name,
            |i, id, first| {
                new_id("members", i, id, first, |path, first| {
                    Error::DuplicateMember {
                        path,
                        member: id.to_string(),
                        first,
                    }
                })
            },
        )?;
        // Sponsors and group owners are looked up all together first (see
        // `IdIndex::get_all`), then checked in input order.
        let sponsors = index.get_each(
            n,
            |i| {
                members
                    .get(i)
                    .and_then(|m| m.sponsor.as_ref())
                    .map(|s| s.as_str())
            },
            member_name,
        );
        let owners = index.get_each(
            group_rows.len(),
            |i| group_rows.get(i).map(|g| g.owner.as_str()),
            member_name,
        );
        let mut parent = Vec::with_capacity(n);
        let mut input_rank = Vec::with_capacity(n);
        let mut input_active = Vec::with_capacity(n);
        for (i, m) in members.iter().enumerate() {
            let path = format!("members[{i}]");
            let sponsor = sponsors.get(i).copied().flatten();
            parent.push(sponsor_of(&path, &m.id, m.sponsor.as_deref(), sponsor)?);
            input_rank.push(rank_of(policy, &path, m.rank.as_deref())?);
            input_active.push(m.active.unwrap_or(true));
        }

        let mut groups = Vec::with_capacity(group_rows.len());
        let mut group_ids: HashMap<&str, usize> = map_with_capacity(group_rows.len());
        for (i, g) in group_rows.iter().enumerate() {
            let path = format!("groups[{i}]");
            if g.id.is_empty() {
                return Err(Error::EmptyId {
                    path: format!("{path}.id"),
                });
            }
            if group_ids.insert(g.id.as_str(), i).is_some() {
                return Err(Error::DuplicateGroup {
                    path: format!("{path}.id"),
                    group: g.id.to_string(),
                });
            }
            groups.push(group_of(&path, g, owners.get(i).copied().flatten())?);
        }
        // The records end here, before the events come: their ids are packed,
        // their sponsors resolved, and only their attributes are kept.
        // Collected into a vector of its own: `into_iter().collect()` would
        // reuse the records' allocation (a hundred bytes a member) for the
        // few members that have attributes, and keep it to the end.
        let mut attrs = Vec::with_capacity(members.iter().filter(|m| !m.attrs.is_empty()).count());
        attrs.extend(
            members
                .into_iter()
                .enumerate()
                .filter(|(_, m)| !m.attrs.is_empty())
                .map(|(i, m)| (idx32(i), m.attrs)),
        );
        Ok(BatchBuilder {
            policy: std::borrow::Cow::Borrowed(policy),
            threads: 1,
            member_names: packed,
            member_index: index,
            parent,
            input_rank,
            input_active,
            groups,
            attrs,
            ids: EventIds::with_capacity(0),
            names: Arc::default(),
            refund_rows: Vec::new(),
            pending: Vec::new(),
            pending_of: Packed::default(),
            events: Arc::new(Events::new(policy.rounding().scale)),
            buyers: crate::policy::Needs::of(policy).purchases,
            failed: None,
            categories: Vec::new(),
            category_codes: HashMap::default(),
            stream: None,
            times: policy.hold().map(Times::new),
            log: Vec::new(),
        })
    }

    /// The policy the batch is validated against.
    pub(crate) fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Validate on up to `threads` threads (see [`Batch::from_columns_on`]).
    pub fn threads(mut self, threads: usize) -> BatchBuilder<'p> {
        self.threads = threads;
        self
    }

    /// Room for `n` more events: tables sized once instead of grown (a reader
    /// that knows how many rows come calls this before the first chunk).
    pub fn reserve(&mut self, n: usize) {
        let total = self.names.len().saturating_add(n);
        if self.names.is_empty() && !self.ids.fits(total) {
            self.ids = EventIds::with_capacity(total);
        }
        Arc::make_mut(&mut self.names).reserve(n);
        Arc::make_mut(&mut self.events).reserve(n);
    }

    /// Validate the next chunk of events (positions continue from the last
    /// chunk). Returns an empty or unreadable id's error (or an earlier
    /// duplicate's) or a limit at once; an event's own error is kept for
    /// [`BatchBuilder::finish`].
    pub fn push_events<E: EventColumns + Sync + ?Sized>(&mut self, docs: &E) -> Result<()> {
        let offset = self.names.len();
        let n = docs.len();
        let total = offset.saturating_add(n);
        if u32::try_from(total).map_or(true, |t| t == NONE) {
            return Err(Error::LimitExceeded {
                path: "events".into(),
                detail: format!("{total} events is above the limit of {}", NONE - 1),
            });
        }
        self.reserve(n);
        if let Some(bytes) = docs.id_bytes() {
            // Room for this chunk's ids and, at their mean length, for the
            // events reserved beyond it: the text is copied once instead of
            // at every doubling (room never written is never resident).
            let later = self.events.capacity().saturating_sub(total);
            let mean = bytes.div_ceil(n.max(1));
            Arc::make_mut(&mut self.names)
                .reserve_text(bytes.saturating_add(mean.saturating_mul(later)));
        }
        let checking = self.failed.is_none();
        // Sellers and buyers are resolved first, in a loop that does nothing
        // else, so that many lookups are in flight at once; an unknown one is
        // reported below, in input order with every other check.
        let (members, member_names) = (&self.member_index, &self.member_names);
        let buyers_too = self.buyers;
        let resolve = |sellers: bool| {
            let name = |i| match sellers {
                true => docs.seller(i),
                false => buyer_looked_up(buyers_too, docs.seller(i), docs.buyer(i)),
            };
            let mut found = Vec::with_capacity(if checking { n } else { 0 });
            if checking {
                members.get_all(
                    n,
                    name,
                    |m| member_names.get(m),
                    |_, m| {
                        found.push(match m {
                            None => NONE,
                            Some(m) => m.unwrap_or(UNKNOWN),
                        });
                    },
                );
            }
            found
        };
        // Every id is kept for the end, where duplicates and the orders of
        // refunds are found all at once (see `event_ids`).
        let names = Arc::make_mut(&mut self.names);
        let (ids, refund_rows) = (&mut self.ids, &mut self.refund_rows);
        let mut index_ids = || index_event_ids(docs, offset, ids, names, refund_rows);
        // The two share nothing but reads: apart, they can run at once.
        let (sellers, buyers, indexed) = if self.threads > 1 && checking {
            std::thread::scope(|scope| {
                let members = scope.spawn(|| (resolve(true), resolve(false)));
                let indexed = index_ids();
                let (s, b) = members
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
                (s, b, indexed)
            })
        } else {
            let indexed = index_ids();
            (resolve(true), resolve(false), indexed)
        };
        indexed?;
        if self.failed.is_none() {
            if let Err(failed) = self.check_events(docs, offset, &sellers, &buyers) {
                self.failed = Some(failed);
            }
        }
        Ok(())
    }

    /// Each event's own checks, in input order; the first failure is returned.
    fn check_events<E: EventColumns + ?Sized>(
        &mut self,
        docs: &E,
        offset: usize,
        sellers: &[u32],
        buyers: &[u32],
    ) -> Result<()> {
        let scale = self.policy.rounding().scale;
        let names = &self.names;
        let event_name = |j: u32| names.get(j);
        let events = Arc::make_mut(&mut self.events);
        for k in 0..docs.len() {
            let i = offset + k;
            let refund_of = docs.refund_of(k);
            let id = || event_name(idx32(i)).to_owned();
            let record = if refund_of.is_some() {
                "refund"
            } else {
                "order"
            };
            // An order's amount in units when the column tells them: then it
            // is positive, within the scale and kept in units (no checks).
            let units = match refund_of {
                None => docs.amount_units(k, scale).filter(|&u| u > 0),
                Some(_) => None,
            };
            let amount = match units {
                Some(u) => Amount::Units(u),
                None => Amount::Exact(checked_amount(docs, k, offset, scale, record, &id)?),
            };
            let at = match docs.at(k) {
                Some(at) => {
                    Some(
                        Timestamp::parse(at).map_err(|detail| Error::InvalidTimestamp {
                            path: format!("events[{i}].at"),
                            event: id(),
                            at: at.to_owned(),
                            detail,
                        })?,
                    )
                }
                None => None,
            };
            if let Some(times) = self.times.as_mut() {
                // Kept in step with the events (a failed event's is dropped with it).
                let Some(t) = at else {
                    return Err(Error::MissingTime {
                        path: format!("events[{i}].at"),
                        record,
                        event: id(),
                    });
                };
                if refund_of.is_none() && times.hold.from == HoldFrom::Paid {
                    let text = docs.at(k).unwrap_or_default();
                    times.check_end(t, || format!("events[{i}].at"), id, text)?;
                }
                times.at.truncate(i);
                times.at.push(t);
            }
            match refund_of {
                Some(of) => {
                    let given = [
                        ("seller", docs.seller(k).is_some()),
                        ("buyer", docs.buyer(k).is_some()),
                        ("category", docs.category(k).is_some()),
                        ("quantity", docs.quantity(k).is_some()),
                    ];
                    for (field, present) in given {
                        if present {
                            return Err(Error::UnknownField {
                                path: format!("events[{i}]"),
                                field: field.into(),
                            });
                        }
                    }
                    let amount = match amount {
                        Amount::Exact(d) => d,
                        Amount::Units(u) => Decimal::new(u, scale),
                    };
                    // Its order is found, and checked, at the end.
                    self.pending.push(idx32(i));
                    self.pending_of.push(of);
                    events.push(Event::Refund(Refund {
                        order_event: NONE,
                        amount,
                        completes: false,
                    }));
                }
                None => {
                    let buyer = match buyers.get(k).copied().unwrap_or(NONE) {
                        UNKNOWN => NONE,
                        b => b,
                    };
                    let seller = match sellers.get(k).copied().unwrap_or(NONE) {
                        UNKNOWN => {
                            return Err(Error::UnknownSeller {
                                path: format!("events[{i}].seller"),
                                order: id(),
                                seller: docs.seller(k).unwrap_or_default().to_owned(),
                            })
                        }
                        NONE if buyer != NONE => buyer,
                        NONE => {
                            return Err(Error::NoSeller {
                                path: format!("events[{i}].seller"),
                                order: id(),
                                buyer: docs
                                    .buyer(k)
                                    .map_or_else(|| "(none)".to_owned(), |b| format!("\"{b}\"")),
                            })
                        }
                        s => s,
                    };
                    match amount {
                        Amount::Units(u) => events.push_order_units(seller, buyer, u),
                        Amount::Exact(amount) => events.push(Event::Order(Order {
                            seller,
                            buyer,
                            amount,
                        })),
                    }
                    if let Some(c) = docs.category(k) {
                        let version = self.policy.version();
                        let code = category_code(
                            &mut self.categories,
                            &mut self.category_codes,
                            version,
                            c,
                            i,
                        )?;
                        events.set_category(code);
                    }
                    if let Some(q) = docs.quantity(k) {
                        let path = || format!("events[{i}].quantity");
                        if self.policy.version() < 2 {
                            return Err(Error::NeedsVersion2 {
                                path: path(),
                                field: "quantity".into(),
                            });
                        }
                        if q == 0 {
                            return Err(Error::InvalidValue {
                                path: path(),
                                detail: format!(
                                    "order \"{}\" has quantity 0; an order is of at least 1 unit",
                                    id()
                                ),
                            });
                        }
                        if q > 1 {
                            events.set_quantity(q);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The pending refunds' orders (`found`, in the order of `pending`),
    /// checked in input order: an earlier order, refunded in all at most
    /// its amount. The first failure is returned; else each refund's event
    /// is given its order and whether it completes the order's refunds.
    fn check_refunds(&mut self, found: &[Option<u32>]) -> Result<()> {
        let mut refunded: HashMap<usize, Decimal> = HashMap::default();
        for (q, &at) in self.pending.iter().enumerate() {
            let (i, of) = (at as usize, self.pending_of.get(idx32(q)));
            let id = || self.names.get(at).to_owned();
            let is_refund = |j: usize| self.refund_rows.binary_search(&idx32(j)).is_ok();
            let order = found.get(q).copied().flatten().map(|j| j as usize);
            let (j, order_amount) = match order {
                Some(j) if j < i => match self.events.get(j) {
                    Some(Event::Order(o)) => (j, o.amount),
                    // A refund itself.
                    _ => return Err(refund_error(Some(""), i, &id(), of, j)),
                },
                // Later in the input: before its order, or of a refund.
                Some(j) => {
                    let refund_of_j = is_refund(j).then_some("");
                    return Err(refund_error(refund_of_j, i, &id(), of, j));
                }
                None => {
                    return Err(Error::UnknownOrder {
                        path: format!("events[{i}].refund_of"),
                        refund: id(),
                        order: of.to_owned(),
                    })
                }
            };
            let Some(Event::Refund(refund)) = self.events.get(i) else {
                continue;
            };
            let so_far = refunded.entry(j).or_insert(Decimal::ZERO);
            let total = refund_total(*so_far, refund.amount, order_amount, i, &id(), of)?;
            *so_far = total;
            Arc::make_mut(&mut self.events).set_refund(i, idx32(j), total == order_amount);
        }
        Ok(())
    }

    /// The validated batch, or the first error in input order (see the type).
    /// A repeated event id is `duplicate_event` here, under any policy: a
    /// reader that can give its rows again finishes with
    /// [`BatchBuilder::finish_or_again`], which counts a repeat once under a
    /// version-2 policy (§14.2).
    pub fn finish(mut self) -> Result<Batch> {
        self.check_all()?;
        self.assemble()
    }

    /// [`BatchBuilder::finish`] for a reader that may give the same rows
    /// twice, with `pushed` the outcome of its last
    /// [`BatchBuilder::push_events`]: the batch, or, when the events repeat
    /// an id under a version-2 policy (§14.2), [`Finished::Again`]: a
    /// [`RowBuilder`] to take the same rows again, as a ledger takes events.
    /// A version-1 policy keeps `duplicate_event`.
    ///
    /// ```
    /// use fenrun::input::{EventRecord, MemberRecord};
    /// use fenrun::Finished;
    /// use rust_decimal::Decimal;
    /// let policy = fenrun::Policy::from_json(r#"{"version": 2, "ranks": [{"id": "member", "rate": "0.1"}],
    ///   "rules": [{"id": "d", "type": "differential"}]}"#)?;
    /// let o1 = EventRecord::order("o1", Some("m1"), None, Decimal::new(1000, 2));
    /// // A webhook delivered twice: the same order in two rows.
    /// let rows = [o1.clone(), o1];
    /// let mut builder = fenrun::BatchBuilder::new(vec![MemberRecord::new("m1")], &[], &policy)?;
    /// let pushed = builder.push_events(&rows[..]);
    /// let batch = match builder.finish_or_again(pushed)? {
    ///     Finished::Batch(batch) => batch,
    ///     Finished::Again(mut again) => {
    ///         again.push_events(&rows[..])?;
    ///         again.finish()?
    ///     }
    /// };
    /// assert_eq!(batch.event_count(), 1);
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn finish_or_again(mut self, pushed: Result<()>) -> Result<Finished> {
        match pushed.and_then(|()| self.check_all()) {
            Ok(()) => self.assemble().map(Finished::Batch),
            Err(Error::DuplicateEvent { .. })
                if self.policy.version() >= 2 && self.stream.is_none() =>
            {
                Ok(Finished::Again(RowBuilder(self.again())))
            }
            Err(e) => Err(e),
        }
    }

    /// The checks made at the end: duplicates and the orders of refunds,
    /// then the first event's own error (a stream's events were checked one
    /// by one as they came).
    fn check_all(&mut self) -> Result<()> {
        if self.stream.is_none() {
            let ids = std::mem::replace(&mut self.ids, EventIds::with_capacity(0));
            let pending_of = &self.pending_of;
            let resolved = ids.finish(
                &self.names,
                (0..pending_of.len()).map(|q| pending_of.get(idx32(q))),
            );
            // An id error anywhere comes first.
            if resolved.duplicate {
                first_duplicate(&self.names, self.names.len())?;
            }
            // Every pending refund comes before the first failed event (its
            // checks stopped there): the first refund that fails comes first.
            self.check_refunds(&resolved.found)?;
            if let Some(e) = self.failed.take() {
                return Err(e);
            }
        }
        Ok(())
    }

    /// The batch of the events checked.
    fn assemble(self) -> Result<Batch> {
        drop(self.member_index);
        drop(self.stream);
        let ids = Arc::new(self.member_names);
        let forest = Forest::build(self.parent, &ids)?;
        Ok(Batch {
            ids,
            event_ids: self.names,
            forest,
            input_rank: self.input_rank,
            input_active: self.input_active,
            attrs: self.attrs,
            groups: self.groups,
            events: self.events,
            buyers: self.buyers,
            categories: self.categories,
            times: self.times.map(Arc::new),
            log: self.log,
        })
    }
}

/// The buyer of an order that is looked up among the members: when the
/// policy reads purchases (`buyers`), or in place of an absent seller (see
/// `Batch::buyers`); else none.
fn buyer_looked_up<'a>(
    buyers: bool,
    seller: Option<&str>,
    buyer: Option<&'a str>,
) -> Option<&'a str> {
    buyer.filter(|_| buyers || seller.is_none())
}

/// The refunds of order `order` (amount `order_amount`) so far, `so_far`,
/// with refund `refund` (event `i`) of `amount`: at most the order's amount.
fn refund_total(
    so_far: Decimal,
    amount: Decimal,
    order_amount: Decimal,
    i: usize,
    refund: &str,
    order: &str,
) -> Result<Decimal> {
    let total = so_far.checked_add(amount).ok_or_else(|| Error::Overflow {
        path: format!("events[{i}].amount"),
        detail: format!("refunds of order \"{order}\""),
    })?;
    if total > order_amount {
        return Err(Error::OverRefund {
            path: format!("events[{i}].amount"),
            refund: refund.to_owned(),
            order: order.to_owned(),
            refunded: short_string(total),
            amount: short_string(order_amount),
        });
    }
    Ok(total)
}

/// The parent of member `id` (record at `path`) whose `sponsor` was looked
/// up as `found`: none, or a member other than itself.
fn sponsor_of(path: &str, id: &str, sponsor: Option<&str>, found: Option<u32>) -> Result<u32> {
    match sponsor {
        None => Ok(NONE),
        Some(s) if s == id => Err(Error::SelfSponsor {
            path: format!("{path}.sponsor"),
            member: id.to_owned(),
        }),
        Some(s) => found.ok_or_else(|| Error::UnknownSponsor {
            path: format!("{path}.sponsor"),
            member: id.to_owned(),
            sponsor: s.to_owned(),
        }),
    }
}

/// The ladder index of a member's input rank (the lowest when `None`).
fn rank_of(policy: &Policy, path: &str, rank: Option<&str>) -> Result<RankIdx> {
    match rank {
        None => Ok(0),
        Some(r) => policy.rank_index(r).ok_or_else(|| Error::UnknownRank {
            path: format!("{path}.rank"),
            rank: r.to_owned(),
        }),
    }
}

/// Group `g` (record at `path`) whose owner was looked up as `owner`.
fn group_of(path: &str, g: &GroupRecord, owner: Option<u32>) -> Result<Group> {
    let owner = owner.ok_or_else(|| Error::UnknownOwner {
        path: format!("{path}.owner"),
        group: g.id.to_string(),
        owner: g.owner.to_string(),
    })?;
    let size = u64::try_from(g.size).map_err(|_| Error::NegativeSize {
        path: format!("{path}.size"),
        group: g.id.to_string(),
        size: g.size,
    })?;
    Ok(Group { owner, size })
}

/// The code of category `name` of event `i`, given on its first order:
/// a version-2 policy's batch only, a non-empty name.
fn category_code(
    categories: &mut Vec<String>,
    codes: &mut HashMap<String, u16>,
    version: i64,
    name: &str,
    i: usize,
) -> Result<u16> {
    let path = || format!("events[{i}].category");
    if version < 2 {
        return Err(Error::NeedsVersion2 {
            path: path(),
            field: "category".into(),
        });
    }
    if name.is_empty() {
        return Err(Error::InvalidValue {
            path: path(),
            detail: "a category is a non-empty string".into(),
        });
    }
    if let Some(&code) = codes.get(name) {
        return Ok(code);
    }
    let code = u16::try_from(categories.len() + 1)
        .ok()
        .filter(|&c| c < u16::MAX)
        .ok_or_else(|| Error::LimitExceeded {
            path: path(),
            detail: format!("more than {} distinct categories", u16::MAX - 1),
        })?;
    categories.push(name.to_owned());
    codes.insert(name.to_owned(), code);
    Ok(code)
}

/// An event's amount, read by [`BatchBuilder::check_events`].
#[derive(Debug, Clone, Copy)]
enum Amount {
    /// An order's units at the policy's scale, told by the column.
    Units(i64),
    /// Read as a decimal and checked.
    Exact(Decimal),
}

/// Row `k`'s amount (event `offset + k`), checked positive and within `scale` decimals.
fn checked_amount<E: EventColumns + ?Sized>(
    docs: &E,
    k: usize,
    offset: usize,
    scale: u32,
    record: &str,
    id: &dyn Fn() -> String,
) -> Result<Decimal> {
    let i = offset + k;
    let amount = docs
        .amount(k)
        .map_err(|e| e.map_path(|p| shift(p, offset)))?;
    if amount <= Decimal::ZERO {
        return Err(Error::NonPositiveAmount {
            path: format!("events[{i}].amount"),
            record: record.into(),
            id: id(),
            amount: short_string(amount),
        });
    }
    // Written decimals bound the value's: normalizing (a division loop) is
    // only needed when more are written than the scale allows.
    if amount.scale() > scale && decimals_by_value(amount) > scale {
        return Err(Error::TooManyDecimals {
            path: format!("events[{i}].amount"),
            record: record.into(),
            id: id(),
            amount: amount.to_string(),
            scale,
        });
    }
    Ok(amount)
}

/// `events[k]` of a chunk is `events[offset + k]` of the batch.
fn shift(path: &str, offset: usize) -> String {
    crate::input::map_event_index(path, |k| format!("events[{}]", k + offset))
}

/// The check of a new id at `record[i]`: not empty, not a duplicate of the
/// one at `first` (`duplicate` makes that error from the path and `first`).
fn new_id(
    record: &str,
    i: usize,
    id: &str,
    first: Option<u32>,
    duplicate: impl FnOnce(String, usize) -> Error,
) -> Result<()> {
    let path = || format!("{record}[{i}].id");
    if id.is_empty() {
        return Err(Error::EmptyId { path: path() });
    }
    match first {
        Some(first) => Err(duplicate(path(), first as usize)),
        None => Ok(()),
    }
}

/// Refund `at` names `order`, first seen at `j` and not an earlier order:
/// before its order if event `j` is an order (`refund_of_j` is `None`),
/// else of an order that does not exist.
fn refund_error(
    refund_of_j: Option<&str>,
    at: usize,
    refund: &str,
    order: &str,
    j: usize,
) -> Error {
    match refund_of_j {
        None if j > at => Error::RefundBeforeOrder {
            path: format!("events[{at}].refund_of"),
            refund: refund.to_owned(),
            order: order.to_owned(),
            order_index: j,
        },
        _ => Error::UnknownOrder {
            path: format!("events[{at}].refund_of"),
            refund: refund.to_owned(),
            order: order.to_owned(),
        },
    }
}

/// Keep a chunk's event ids at positions from `offset`: copied into `names`
/// and added to `ids`, refunds' positions to `refund_rows`. An empty id, or
/// one the columns cannot give, is an error, unless an earlier id is used
/// twice: that comes first.
fn index_event_ids<E: EventColumns + ?Sized>(
    docs: &E,
    offset: usize,
    ids: &mut EventIds,
    names: &mut Packed,
    refund_rows: &mut Vec<u32>,
) -> Result<()> {
    for k in 0..docs.len() {
        let i = offset + k;
        let id = match docs.id_if_any(k) {
            Some(id) if !id.is_empty() => id,
            _ => match docs.id(k) {
                Ok(id) if !id.is_empty() => id,
                other => {
                    let e = match other {
                        Err(e) => e.map_path(|p| shift(p, offset)),
                        Ok(_) => Error::EmptyId {
                            path: format!("events[{i}].id"),
                        },
                    };
                    first_duplicate(names, i)?;
                    return Err(e);
                }
            },
        };
        names.push(id);
        ids.push(id, idx32(i));
        if docs.refund_of(k).is_some() {
            refund_rows.push(idx32(i));
        }
    }
    Ok(())
}

/// The first of `names[..n]` (event ids) that repeats an earlier one, as the
/// error naming both; `Ok` if none does. A plain map: only an input with a
/// duplicate id (or an empty one) comes here.
fn first_duplicate(names: &Packed, n: usize) -> Result<()> {
    let mut seen: HashMap<&str, usize> = map_with_capacity(n);
    for i in 0..n {
        let id = names.get(idx32(i));
        if let Some(&first) = seen.get(id) {
            return Err(Error::DuplicateEvent {
                path: format!("events[{i}].id"),
                event: id.to_owned(),
                first,
            });
        }
        seen.insert(id, i);
    }
    Ok(())
}

/// Whether a batch document that failed to read as orders and refunds
/// alone is read again as a ledger's stream (§14, §14.2): under a version-2
/// policy, when an event was repeated or an event did not read as an order or
/// a refund (it may be a member, group or `received` event).
fn reads_as_stream(policy: &Policy, e: &Error) -> bool {
    policy.version() >= 2
        && (matches!(e, Error::DuplicateEvent { .. })
            || (e.family() == crate::ErrorFamily::Format && e.path().starts_with("events[")))
}

fn check_timestamp(at: &str) -> std::result::Result<(), String> {
    Timestamp::parse(at).map(|_| ())
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::{attr_of, Batch, BatchBuilder};
    use crate::input::{EventRecord, MemberRecord};
    use crate::Policy;

    /// Only members with attributes keep an entry; each is found by index.
    #[test]
    fn attributes_are_kept_for_the_members_that_have_them() {
        let policy = Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}]}"#).unwrap();
        let batch = Batch::from_json(
            r#"{"members": [{"id": "a"}, {"id": "b", "attrs": {"x": "1"}}, {"id": "c"},
                {"id": "d", "attrs": {"x": "2", "y": "3.5"}}], "events": []}"#,
            &policy,
        )
        .unwrap();
        assert_eq!(batch.attrs.len(), 2);
        let got: Vec<_> = [
            (0, "x"),
            (1, "x"),
            (2, "x"),
            (3, "x"),
            (3, "y"),
            (3, "z"),
            (4, "x"),
        ]
        .iter()
        .map(|&(m, name)| attr_of(&batch.attrs, m, name))
        .collect();
        let d = |u, s| Some(Decimal::new(u, s));
        assert_eq!(got, [None, d(1, 0), None, d(2, 0), d(35, 1), None, None]);
    }

    /// Errors whose order across chunks matters: an id error anywhere before an
    /// earlier event's own error, a refund told apart by an order in a later
    /// chunk, a sponsor cycle after every event.
    #[test]
    fn chunks_report_the_error_the_whole_batch_does() {
        let policy = Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}]}"#).unwrap();
        let order = |id: &str, seller: &str, cents: i64| {
            EventRecord::order(id, Some(seller), None, Decimal::new(cents, 2))
        };
        let refund = |id: &str, of: &str| EventRecord::refund(id, of, Decimal::ONE);
        let members = |cycle: bool| {
            let mut m = vec![MemberRecord::new("m1"), MemberRecord::new("m2")];
            if cycle {
                m[0].sponsor = Some("m2".into());
                m[1].sponsor = Some("m1".into());
            }
            m
        };
        let cases: Vec<(bool, Vec<EventRecord>, &str)> = vec![
            // A non-positive amount at 0, a duplicate id at 2: the id comes first.
            (
                false,
                vec![
                    order("o1", "m1", -100),
                    order("o2", "m1", 100),
                    order("o2", "m1", 100),
                ],
                "events[2].id",
            ),
            // A refund of an order two chunks later.
            (
                false,
                vec![
                    refund("r1", "o9"),
                    order("o2", "m1", 100),
                    order("o9", "m1", 100),
                ],
                "refund_before_order events[0].refund_of order_index 2",
            ),
            // ... of a later refund: an order that does not exist.
            (
                false,
                vec![
                    refund("r1", "o9"),
                    order("o2", "m1", 100),
                    refund("o9", "o2"),
                ],
                "unknown_order events[0].refund_of",
            ),
            (
                false,
                vec![refund("r1", "o9"), order("o2", "m1", 100)],
                "unknown_order events[0].refund_of",
            ),
            // An unknown seller before a refund of its order.
            (
                false,
                vec![order("o1", "m7", 100), refund("r1", "o1")],
                "unknown_seller events[0].seller",
            ),
            // A refund after its refund of the same id: the id error.
            (
                false,
                vec![
                    order("o1", "m1", 100),
                    refund("r1", "o1"),
                    refund("r1", "o1"),
                ],
                "events[2].id",
            ),
            // An empty id after a duplicate: the duplicate; before it: the empty id.
            (
                false,
                vec![
                    order("o1", "m1", 100),
                    order("o1", "m1", 100),
                    order("", "m1", 100),
                ],
                "duplicate_event events[1].id",
            ),
            (
                false,
                vec![
                    order("o1", "m1", 100),
                    order("", "m1", 100),
                    order("o1", "m1", 100),
                ],
                "empty_id events[1].id",
            ),
            // A refund's error before another event's, and after one.
            (
                false,
                vec![
                    order("o1", "m1", 100),
                    refund("r1", "o9"),
                    order("o2", "m1", 0),
                ],
                "unknown_order events[1].refund_of",
            ),
            (
                false,
                vec![
                    order("o1", "m1", 0),
                    refund("r1", "o9"),
                    order("o2", "m1", 100),
                ],
                "non_positive_amount events[0].amount",
            ),
            // 1.00 refunded twice from an order of 1.50: over at the second.
            (
                false,
                vec![
                    order("o1", "m1", 150),
                    refund("r1", "o1"),
                    refund("r2", "o1"),
                    order("o2", "m7", 100),
                ],
                "over_refund events[2].amount",
            ),
            // A sponsor cycle and an event's error: the event's.
            (true, vec![order("o1", "m1", 0)], "events[0].amount"),
            (true, vec![order("o1", "m1", 100)], "sponsor_cycle"),
        ];
        for (cycle, events, want) in cases {
            let whole =
                Batch::from_columns(members(cycle), &[], events.as_slice(), &policy).unwrap_err();
            let mut words = want.split(' ');
            let path_or_code = words.next().unwrap();
            assert!(
                whole.path() == path_or_code || whole.code() == path_or_code,
                "{want}: {whole}"
            );
            if let Some(path) = words.next() {
                assert_eq!(whole.path(), path, "{want}: {whole}");
            }
            if words.next() == Some("order_index") {
                assert!(
                    matches!(
                        whole,
                        crate::Error::RefundBeforeOrder { order_index: 2, .. }
                    ),
                    "{whole:?}"
                );
            }
            for k in [1, 2] {
                let chunked = BatchBuilder::new(members(cycle), &[], &policy).and_then(|mut b| {
                    for c in events.chunks(k) {
                        b.push_events(c)?;
                    }
                    b.finish()
                });
                assert_eq!(
                    chunked.unwrap_err().to_string(),
                    whole.to_string(),
                    "{want}, chunks of {k}"
                );
            }
        }
    }
}
