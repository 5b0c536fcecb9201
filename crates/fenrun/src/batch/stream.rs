//! A batch built one event at a time (a ledger's, §14): each event, of any
//! kind (order, refund, member, group, received), is checked against every
//! event before it and applied whole, or refused with nothing changed. The
//! checks are the batch's own (`check_events`, the member and group checks
//! of `BatchBuilder::new`), so a ledger's batch is the batch of the same
//! events given at once.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{
    buyer_looked_up, check_timestamp, group_of, map_with_capacity, rank_of, refund_total,
    sponsor_of, Batch, BatchBuilder, Change, Event, HashMap, What, UNKNOWN,
};
use crate::error::{Error, Result};
use crate::graph::{Forest, NONE};
use crate::hold::{HoldFrom, Timestamp};
use crate::ids::idx32;
use crate::index::{IdIndex, Packed};
use crate::input::{
    map_event_index, EventColumns, EventRecord, GroupRecord, MemberChange, ReceivedEvent,
    StreamEvent,
};
use crate::policy::Policy;

/// A batch document whose events are read as a stream's (§14), straight
/// into records: members, groups, and each event as a JSON value.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StreamDoc {
    #[serde(default)]
    pub members: Vec<crate::input::MemberRecord>,
    #[serde(default)]
    pub groups: Vec<GroupRecord>,
    #[serde(default)]
    pub events: Vec<serde_json::Value>,
}

impl StreamDoc {
    /// Read a document as JSON text: straight into records, or, for a
    /// document that does not read so (an error to name), through a JSON
    /// value, which names it.
    pub(crate) fn from_json(text: &str) -> Result<StreamDoc> {
        match serde_json::from_str::<StreamDoc>(text) {
            Ok(doc) => Ok(doc),
            Err(_) => StreamDoc::from_value(crate::doc::from_str(text)?),
        }
    }

    /// Read a document given as a JSON value; errors name its records
    /// (`members[2].sponsor`).
    pub(crate) fn from_value(doc: serde_json::Value) -> Result<StreamDoc> {
        let serde_json::Value::Object(mut doc) = doc else {
            return Err(Error::InvalidType {
                path: "$".into(),
                detail: "a batch document is a JSON object".into(),
            });
        };
        if let Some(field) = doc
            .keys()
            .find(|k| !["members", "groups", "events"].contains(&k.as_str()))
        {
            return Err(Error::UnknownField {
                path: "$".into(),
                field: field.clone(),
            });
        }
        let mut table = |name: &str| doc.remove(name).unwrap_or(serde_json::Value::Array(vec![]));
        Ok(StreamDoc {
            members: crate::input::rows_from_value("members", table("members"))?,
            groups: crate::input::rows_from_value("groups", table("groups"))?,
            events: crate::input::rows_from_value("events", table("events"))?,
        })
    }
}

/// What a builder taking events one at a time keeps besides the batch.
#[derive(Debug)]
pub(crate) struct Stream {
    /// The ids of the events that are not orders or refunds, in stream
    /// order; an order's or refund's is the builder's, at its position
    /// among them ([`StreamIds`]).
    others: Packed,
    /// The stream position of each id in `others`.
    other_at: Vec<u32>,
    /// Every event's canonical JSON ([`StreamEvent::to_json`]), in stream
    /// order: what a repeated event is compared with (§14.2) and a ledger's
    /// snapshot holds. An order or refund whose canonical JSON the batch's
    /// tables give back exactly but for its buyer (see [`plain_sale`])
    /// keeps [`REMADE`] instead, or [`REMADE_BUYER`] and the buyer: most
    /// events are, and their text would be most of a ledger's memory.
    texts: Packed,
    /// Event id → stream position.
    index: IdIndex<u32>,
    /// Each stream event's position among orders and refunds (`NONE`:
    /// another kind): one entry per stream event, so its length is the
    /// stream's.
    sales: Vec<u32>,
    /// Refunds so far of each refunded order (by its position among orders and refunds).
    refunded: HashMap<u32, Decimal>,
    /// Group id → index in the batch's groups.
    group_ids: HashMap<String, usize>,
    /// The stream position of each received order's `received` event.
    received: HashMap<u32, u32>,
    /// Taking a document's or a table's records ([`BatchBuilder::take_row`]):
    /// the records read, and the record of each stream event, what errors
    /// name (empty while each event's record is its position).
    rows_read: usize,
    rows: Vec<u32>,
    /// Taking a table's rows again ([`BatchBuilder::again`]): whether each
    /// row's id is used more than once, the rows whose canonical JSON is
    /// kept (`None`: every event's).
    repeated: Option<Vec<bool>>,
}

/// Every stream event's id: an order's or refund's among the builder's
/// ids of orders and refunds (kept once, not again for the stream), any
/// other's among the stream's own.
#[derive(Clone, Copy)]
struct StreamIds<'a> {
    names: &'a Packed,
    sales: &'a [u32],
    others: &'a Packed,
    other_at: &'a [u32],
}

impl<'a> StreamIds<'a> {
    /// The id of stream event `k` ("" past the end).
    fn get(self, k: u32) -> &'a str {
        match self.sales.get(k as usize) {
            Some(&e) if e != NONE => self.names.get(e),
            Some(_) => match self.other_at.binary_search(&k) {
                Ok(j) => self.others.get(idx32(j)),
                Err(_) => "",
            },
            None => "",
        }
    }
}

impl Stream {
    /// Its events' ids, `names` the builder's ids of orders and refunds.
    fn ids<'a>(&'a self, names: &'a Packed) -> StreamIds<'a> {
        StreamIds {
            names,
            sales: &self.sales,
            others: &self.others,
            other_at: &self.other_at,
        }
    }
}

impl<'p> BatchBuilder<'p> {
    /// This builder, owning a copy of its policy, taking events one at a
    /// time from here on ([`BatchBuilder::push_now`]). `groups` are the
    /// groups it was made with (their ids, checked unique, are kept so that
    /// a group event can replace one).
    pub(crate) fn streaming(self, groups: &[GroupRecord]) -> BatchBuilder<'static> {
        let mut group_ids = map_with_capacity(groups.len());
        for (k, g) in groups.iter().enumerate() {
            group_ids.insert(g.id.to_string(), k);
        }
        let stream = Stream {
            others: Packed::default(),
            other_at: Vec::new(),
            texts: Packed::default(),
            index: IdIndex::with_capacity(0),
            sales: Vec::new(),
            refunded: HashMap::default(),
            group_ids,
            received: HashMap::default(),
            rows_read: 0,
            rows: Vec::new(),
            repeated: None,
        };
        BatchBuilder {
            policy: Cow::Owned(self.policy.into_owned()),
            threads: self.threads,
            member_names: self.member_names,
            member_index: self.member_index,
            parent: self.parent,
            input_rank: self.input_rank,
            input_active: self.input_active,
            groups: self.groups,
            attrs: self.attrs,
            ids: self.ids,
            names: self.names,
            refund_rows: self.refund_rows,
            pending: self.pending,
            pending_of: self.pending_of,
            events: self.events,
            buyers: self.buyers,
            failed: self.failed,
            categories: self.categories,
            category_codes: self.category_codes,
            stream: Some(Box::new(stream)),
            times: self.times,
            log: self.log,
        }
    }

    fn stream(&self) -> Result<&Stream> {
        self.stream
            .as_deref()
            .ok_or_else(|| Error::missing("events", "a streaming builder"))
    }

    /// Events taken so far (every kind).
    pub(crate) fn stream_len(&self) -> usize {
        self.stream.as_deref().map_or(0, |s| s.sales.len())
    }

    /// Room for `n` more stream events: tables sized once instead of grown
    /// (the event index only while it is empty).
    pub(crate) fn reserve_stream(&mut self, n: usize) {
        self.reserve(n);
        if let Some(stream) = self.stream.as_deref_mut() {
            if stream.sales.is_empty() {
                stream.index = IdIndex::with_capacity(n);
            }
            stream.texts.reserve(n);
            stream.sales.reserve(n);
        }
    }

    /// The id of stream event `k` ("" past the end).
    pub(crate) fn stream_id(&self, k: usize) -> &str {
        match self.stream.as_deref() {
            Some(s) if k < s.sales.len() => s.ids(&self.names).get(idx32(k)),
            _ => "",
        }
    }

    /// The canonical JSON of stream event `k` ("" past the end, or not kept).
    pub(crate) fn stream_text(&self, k: usize) -> Cow<'_, str> {
        let Some(stream) = self.stream.as_deref().filter(|s| k < s.texts.len()) else {
            return Cow::Borrowed("");
        };
        let mut record = EventRecord::default();
        match self.remake(stream, k, &mut record) {
            None => Cow::Borrowed(stream.texts.get(idx32(k))),
            Some(()) => Cow::Owned(StreamEvent::Sale(record).to_json()),
        }
    }

    /// Every stream event's canonical JSON and a line break, in stream
    /// order, written to `out` (a snapshot's events).
    pub(crate) fn write_stream_texts(&self, out: &mut Vec<u8>) {
        let Some(stream) = self.stream.as_deref() else {
            return;
        };
        // One record, its strings refilled for each event made again.
        let mut record = EventRecord::default();
        for k in 0..stream.texts.len() {
            match self.remake(stream, k, &mut record) {
                None => out.extend_from_slice(stream.texts.get(idx32(k)).as_bytes()),
                // Records of strings and decimals always serialize (as
                // in `StreamEvent::to_json`).
                Some(()) => {
                    let _ = serde_json::to_writer(&mut *out, &record);
                }
            }
            out.push(b'\n');
        }
    }

    /// Stream event `k` into `record` if its canonical JSON is made again
    /// from the batch's tables (see [`plain_sale`]): its id, its seller's or
    /// its order's id, its amount in units at the policy's scale (as it was
    /// given), and an order's buyer, kept after its mark. `None`: its text
    /// is kept.
    fn remake(&self, stream: &Stream, k: usize, record: &mut EventRecord) -> Option<()> {
        let buyer = match stream.texts.get(idx32(k)) {
            REMADE => None,
            text => Some(text.strip_prefix(REMADE_BUYER)?),
        };
        let e = stream.sales.get(k).copied().unwrap_or(NONE);
        let (party, amount, refund) = match self.events.get(e as usize)? {
            Event::Order(o) => (self.member_names.get(o.seller), o.amount, false),
            Event::Refund(r) => (self.names.get(r.order_event), r.amount, true),
        };
        refill(&mut record.id.0, self.names.get(e));
        set(&mut record.seller, (!refund).then_some(party), |m| &mut m.0);
        set(&mut record.refund_of, refund.then_some(party), |m| &mut m.0);
        set(&mut record.buyer, buyer, |b| b);
        record.amount = amount;
        Some(())
    }

    /// Take the next event of the stream (§14): applied when new (`None`);
    /// when its id was taken before with the same canonical JSON, nothing
    /// changes and the first one's position is returned (§14.2); the same
    /// id with other content is `event_conflict`. Any error changes nothing.
    pub(crate) fn take_event(&mut self, event: &StreamEvent) -> Result<Option<usize>> {
        self.take(event, true)
    }

    /// [`BatchBuilder::take_event`], the event's canonical JSON kept to
    /// compare later repeats with only when `keep` (else an event with its
    /// id again is `event_conflict`).
    fn take(&mut self, event: &StreamEvent, keep: bool) -> Result<Option<usize>> {
        // The index slots the checks will read are asked for first, so that
        // their loads (at scale, cache misses) overlap with writing the
        // canonical form.
        if let Some(stream) = self.stream.as_deref() {
            stream.index.prefetch_id(event.id());
            if let StreamEvent::Sale(record) = event {
                if let Some(of) = &record.refund_of {
                    stream.index.prefetch_id(of);
                }
                if let Some(seller) = &record.seller {
                    self.member_index.prefetch_id(seller);
                }
                let (seller, buyer) = (record.seller.as_deref(), record.buyer.as_deref());
                if let Some(buyer) = buyer_looked_up(self.buyers, seller, buyer) {
                    self.member_index.prefetch_id(buyer);
                }
            }
        }
        let remade = keep && plain_sale(event, self.policy.rounding().scale);
        let text = match keep && !remade {
            true => event.to_json(),
            false => String::new(),
        };
        let position = self.stream_len();
        match self.push_now(event) {
            Ok(()) => {
                if let Some(stream) = self.stream.as_deref_mut() {
                    match (remade, event) {
                        (true, StreamEvent::Sale(EventRecord { buyer: Some(b), .. })) => {
                            stream.texts.push_parts(REMADE_BUYER, b);
                        }
                        (true, _) => stream.texts.push(REMADE),
                        (false, _) => stream.texts.push(&text),
                    }
                }
                Ok(None)
            }
            Err(Error::DuplicateEvent { first, .. })
                if keep && self.stream_text(first) == event.to_json() =>
            {
                Ok(Some(first))
            }
            Err(Error::DuplicateEvent { first, .. }) => Err(Error::EventConflict {
                path: format!("events[{position}].id"),
                event: event.id().to_owned(),
                first,
            }),
            Err(e) => Err(e),
        }
    }

    /// Take a chunk of a table's orders and refunds, each row as the next
    /// event of the stream ([`BatchBuilder::take_event`]: a row repeating
    /// an earlier one's content counted once), rows numbered on from the
    /// last chunk's; the first error is returned at once, naming its row.
    pub(crate) fn take_rows<E: EventColumns + ?Sized>(&mut self, docs: &E) -> Result<()> {
        let offset = self.stream()?.rows_read;
        for k in 0..docs.len() {
            let record = row_record(docs, k).map_err(|e| {
                e.map_path(|p| map_event_index(p, |j| format!("events[{}]", j + offset)))
            })?;
            self.take_row(offset + k, Ok(StreamEvent::Sale(record)))?;
        }
        Ok(())
    }

    /// Take record `row` of a document or table as the next event of the
    /// stream (`event`: the record read, or its parse error), its errors
    /// naming records instead of stream positions.
    pub(crate) fn take_row(&mut self, row: usize, event: Result<StreamEvent>) -> Result<()> {
        let position = self.stream_len();
        let event = event.map_err(|e| name_event_at(e, row))?;
        let keep = self
            .stream()?
            .repeated
            .as_ref()
            .is_none_or(|r| r.get(row).copied().unwrap_or(true));
        let taken = self
            .take(&event, keep)
            .map_err(|e| self.name_row(e, position, row))?;
        let stream = self
            .stream
            .as_deref_mut()
            .ok_or_else(|| Error::missing("events", "a streaming builder"))?;
        stream.rows_read = row + 1;
        // Kept from the first repeat on: until then each event's record is
        // its position.
        if taken.is_none() && (row != position || !stream.rows.is_empty()) {
            if stream.rows.is_empty() {
                stream.rows.extend((0..position).map(idx32));
            }
            stream.rows.push(idx32(row));
        }
        Ok(())
    }

    /// An error of the event at stream `position`, record `row` of a
    /// document or table (the stream's errors name the event's own fields),
    /// naming records instead of stream positions.
    fn name_row(&self, e: Error, position: usize, row: usize) -> Error {
        let e = match e {
            Error::EventConflict { path, event, first } => Error::EventConflict {
                path,
                event,
                first: self
                    .stream
                    .as_deref()
                    .and_then(|s| s.rows.get(first))
                    .map_or(first, |&r| r as usize),
            },
            e => e,
        };
        e.map_path(|p| match position == row {
            true => p.to_owned(),
            false => map_event_index(p, |_| format!("events[{row}]")),
        })
    }

    /// An event parser's error, its path put under the next event's.
    pub(crate) fn name_event(&self, e: Error) -> Error {
        name_event_at(e, self.stream_len())
    }

    /// Check the next event of the stream against everything before it and
    /// apply it, or return its error (paths `events[i]`, `i` its stream
    /// position) with nothing changed.
    fn push_now(&mut self, event: &StreamEvent) -> Result<()> {
        let stream = self.stream()?;
        let i = stream.sales.len();
        // Formatted only when needed: most events are orders that pass.
        let path = || format!("events[{i}]");
        let id = event.id();
        if id.is_empty() {
            return Err(Error::EmptyId {
                path: format!("{}.id", path()),
            });
        }
        let ids = stream.ids(&self.names);
        if let Some(first) = stream.index.get(id, |k| ids.get(k)) {
            return Err(Error::DuplicateEvent {
                path: format!("{}.id", path()),
                event: id.to_owned(),
                first: first as usize,
            });
        }
        if u32::try_from(i + 1).map_or(true, |n| n == NONE) {
            return Err(Error::LimitExceeded {
                path: "events".into(),
                detail: format!("{} events is above the limit of {}", i + 1, NONE - 1),
            });
        }
        if let (false, Some(at)) = (matches!(event, StreamEvent::Sale(_)), event.at()) {
            check_timestamp(at).map_err(|detail| Error::InvalidTimestamp {
                path: format!("{}.at", path()),
                event: id.to_owned(),
                at: at.to_owned(),
                detail,
            })?;
        }
        let sale = match event {
            StreamEvent::Sale(record) => self.sale_now(record, i)?,
            StreamEvent::Member(e) => {
                self.member_now(&e.member, id, &path())?;
                NONE
            }
            StreamEvent::Group(e) => {
                self.group_now(&e.group, id, &path())?;
                NONE
            }
            StreamEvent::Received(e) => {
                self.received_now(e, &path(), i)?;
                NONE
            }
        };
        let BatchBuilder { stream, names, .. } = self;
        let Stream {
            others,
            other_at,
            index,
            sales,
            ..
        } = stream
            .as_deref_mut()
            .ok_or_else(|| Error::missing("events", "a streaming builder"))?;
        sales.push(sale);
        if sale == NONE {
            others.push(id);
            other_at.push(idx32(i));
        }
        let ids = StreamIds {
            names,
            sales,
            others,
            other_at,
        };
        if index.is_full() {
            // Remade twice as big from every id so far, this one included.
            let n = sales.len();
            *index = IdIndex::of_list(n, |k| ids.get(k), n.saturating_mul(2));
        } else {
            // Checked absent above.
            let _ = index.insert(id, idx32(i), |k| ids.get(k));
        }
        Ok(())
    }

    /// An order or refund: the batch's checks of one event, then a refund's
    /// order. Returns its position among orders and refunds.
    fn sale_now(&mut self, record: &EventRecord, i: usize) -> Result<u32> {
        let e = self.names.len();
        let (index, names) = (&self.member_index, &self.member_names);
        let lookup = |name: Option<&str>| match name {
            None => NONE,
            Some(n) => index.get(n, |m| names.get(m)).unwrap_or(UNKNOWN),
        };
        let seller = lookup(record.seller.as_deref());
        let buyer = lookup(buyer_looked_up(
            self.buyers,
            record.seller.as_deref(),
            record.buyer.as_deref(),
        ));
        std::sync::Arc::make_mut(&mut self.names).push(&record.id);
        let rows = std::slice::from_ref(record);
        let checked = self
            .check_events(rows, e, &[seller], &[buyer])
            .and_then(|()| match &record.refund_of {
                None => Ok(None),
                Some(of) => self.refund_now(e, record, of).map(Some),
            });
        self.pending.clear();
        self.pending_of = Packed::default();
        match checked {
            Err(err) => {
                std::sync::Arc::make_mut(&mut self.names).truncate(e);
                std::sync::Arc::make_mut(&mut self.events).truncate(e);
                if let Some(times) = self.times.as_mut() {
                    times.at.truncate(e);
                }
                Err(err.map_path(|p| map_event_index(p, |_| format!("events[{i}]"))))
            }
            Ok(refund) => {
                if let Some((order, total, completes)) = refund {
                    std::sync::Arc::make_mut(&mut self.events).set_refund(e, order, completes);
                    if let Some(stream) = self.stream.as_deref_mut() {
                        stream.refunded.insert(order, total);
                    }
                }
                Ok(idx32(e))
            }
        }
    }

    /// Refund `record` (at `e` among orders and refunds) of order `of`: an
    /// earlier order, refunded in all at most its amount. Returns the order's
    /// position, its refunds with this one, and whether they complete it.
    fn refund_now(&self, e: usize, record: &EventRecord, of: &str) -> Result<(u32, Decimal, bool)> {
        let stream = self.stream()?;
        let ids = stream.ids(&self.names);
        let order = stream
            .index
            .get(of, |k| ids.get(k))
            .and_then(|j| stream.sales.get(j as usize).copied())
            .filter(|&o| o != NONE)
            .and_then(|o| match self.events.get(o as usize) {
                Some(Event::Order(order)) => Some((o, order.amount)),
                _ => None,
            });
        let Some((o, order_amount)) = order else {
            return Err(Error::UnknownOrder {
                path: format!("events[{e}].refund_of"),
                refund: record.id.to_string(),
                order: of.to_owned(),
            });
        };
        let so_far = stream.refunded.get(&o).copied().unwrap_or(Decimal::ZERO);
        let total = refund_total(so_far, record.amount, order_amount, e, &record.id, of)?;
        Ok((o, total, total == order_amount))
    }

    /// A member joins (a new id) or changes (a known one).
    fn member_now(&mut self, change: &MemberChange, event: &str, path: &str) -> Result<()> {
        let path = format!("{path}.member");
        if change.id.is_empty() {
            return Err(Error::EmptyId {
                path: format!("{path}.id"),
            });
        }
        let (index, names) = (&self.member_index, &self.member_names);
        let find = |id: &str| index.get(id, |m| names.get(m));
        let existing = find(&change.id);
        let sponsor = change.sponsor.as_ref().and_then(|s| s.as_deref());
        let parent = sponsor_of(&path, &change.id, sponsor, sponsor.and_then(find))?;
        let Some(m) = existing else {
            let rank = rank_of(&self.policy, &path, change.rank.as_deref())?;
            let n = self.member_names.len();
            if u32::try_from(n + 1).map_or(true, |n| n == NONE) {
                return Err(Error::LimitExceeded {
                    path: "members".into(),
                    detail: format!("{} members is above the limit of {}", n + 1, NONE - 1),
                });
            }
            let m = idx32(n);
            self.member_names.push(&change.id);
            let (index, names) = (&mut self.member_index, &self.member_names);
            // Checked absent above.
            let _ = index.insert(&change.id, m, |k| names.get(k));
            self.parent.push(parent);
            self.input_rank.push(rank);
            self.input_active.push(change.active.unwrap_or(true));
            if let Some(attrs) = change.attrs.as_ref().filter(|a| !a.is_empty()) {
                self.attrs.push((m, attrs.clone()));
            }
            self.log_change(event, What::Join(m));
            return Ok(());
        };
        if change.rank.is_some() {
            return Err(Error::RankUpdate {
                path: format!("{path}.rank"),
                member: change.id.to_string(),
            });
        }
        let current = self.parent.get(m as usize).copied().unwrap_or(NONE);
        let moved = change.sponsor.is_some() && parent != current;
        if moved {
            self.check_move(m, parent, &path)?;
        }
        if let (Some(active), Some(slot)) = (change.active, self.input_active.get_mut(m as usize)) {
            let from = std::mem::replace(slot, active);
            self.log_change(
                event,
                What::Active {
                    member: m,
                    from,
                    to: active,
                },
            );
        }
        if let Some(attrs) = &change.attrs {
            let at = self.attrs.binary_search_by_key(&m, |(k, _)| *k);
            let to = Some(attrs.clone()).filter(|a| !a.is_empty());
            let from = match (at, to.clone()) {
                (Ok(k), None) => Some(self.attrs.remove(k).1),
                (Ok(k), Some(to)) => self
                    .attrs
                    .get_mut(k)
                    .map(|slot| std::mem::replace(&mut slot.1, to)),
                (Err(k), Some(to)) => {
                    self.attrs.insert(k, (m, to));
                    None
                }
                (Err(_), None) => None,
            };
            self.log_change(
                event,
                What::Attrs {
                    member: m,
                    from,
                    to,
                },
            );
        }
        if moved {
            self.log_change(
                event,
                What::Move {
                    member: m,
                    from: current,
                    to: parent,
                },
            );
            if let Some(slot) = self.parent.get_mut(m as usize) {
                *slot = parent;
            }
        }
        Ok(())
    }

    /// Record a change made by `event` before the next order or refund.
    fn log_change(&mut self, event: &str, what: What) {
        self.log.push(Change {
            before: idx32(self.events.len()),
            event: event.into(),
            what,
        });
    }

    /// Moving member `m` under `sponsor` (§14) must not make a cycle: the
    /// sponsor may not be `m` or one of its descendants. The walk goes up
    /// from the new sponsor, as deep as it is (moves are rare).
    fn check_move(&self, m: u32, sponsor: u32, path: &str) -> Result<()> {
        let mut cycle = vec![m];
        let mut x = sponsor;
        while x != NONE && x != m {
            cycle.push(x);
            x = self.parent.get(x as usize).copied().unwrap_or(NONE);
        }
        if x == NONE {
            return Ok(());
        }
        // Named from the smallest id, in sponsor direction (as a batch's cycle).
        let names: Vec<String> = cycle
            .iter()
            .map(|&k| self.member_names.get(k).to_owned())
            .collect();
        let first = (0..names.len())
            .min_by(|&a, &b| names.get(a).cmp(&names.get(b)))
            .unwrap_or(0);
        let mut cycle = names;
        cycle.rotate_left(first);
        Err(Error::SponsorCycle {
            path: format!("{path}.sponsor"),
            cycle,
        })
    }

    /// A group is created, or its owner and size replaced.
    fn group_now(&mut self, g: &GroupRecord, event: &str, path: &str) -> Result<()> {
        let path = format!("{path}.group");
        if g.id.is_empty() {
            return Err(Error::EmptyId {
                path: format!("{path}.id"),
            });
        }
        let (index, names) = (&self.member_index, &self.member_names);
        let group = group_of(&path, g, index.get(&g.owner, |m| names.get(m)))?;
        let k = self.stream()?.group_ids.get(g.id.as_str()).copied();
        let (k, from) = match k.and_then(|k| self.groups.get_mut(k).map(|slot| (k, slot))) {
            Some((k, slot)) => (k, Some(std::mem::replace(slot, group))),
            None => {
                let k = self.groups.len();
                self.groups.push(group);
                if let Some(stream) = self.stream.as_deref_mut() {
                    stream.group_ids.insert(g.id.to_string(), k);
                }
                (k, None)
            }
        };
        self.log_change(
            event,
            What::Group {
                group: idx32(k),
                from,
                to: group,
            },
        );
        Ok(())
    }

    /// An order is received: an earlier order, received once.
    fn received_now(&mut self, e: &ReceivedEvent, path: &str, i: usize) -> Result<()> {
        let stream = self.stream()?;
        let ids = stream.ids(&self.names);
        let order = stream
            .index
            .get(&e.received, |k| ids.get(k))
            .and_then(|j| stream.sales.get(j as usize).copied())
            .filter(|&o| matches!(self.events.get(o as usize), Some(Event::Order(_))));
        let Some(o) = order else {
            return Err(Error::NotAnOrder {
                path: format!("{path}.received"),
                event: e.id.to_string(),
                order: e.received.to_string(),
            });
        };
        if let Some(&first) = stream.received.get(&o) {
            return Err(Error::ReceivedTwice {
                path: format!("{path}.received"),
                order: e.received.to_string(),
                first: first as usize,
            });
        }
        let at = Timestamp::parse(&e.at).map_err(|detail| Error::InvalidTimestamp {
            path: format!("{path}.at"),
            event: e.id.to_string(),
            at: e.at.clone(),
            detail,
        })?;
        if let Some(times) = self
            .times
            .as_mut()
            .filter(|t| t.hold.from == HoldFrom::Received)
        {
            times.check_end(at, || format!("{path}.at"), || e.id.to_string(), &e.at)?;
            times.received.insert(o, at);
        }
        if let Some(stream) = self.stream.as_deref_mut() {
            stream.received.insert(o, idx32(i));
        }
        Ok(())
    }

    /// The batch of a document whose events are a stream's (§14; a
    /// version-2 batch, §14.2), read as a ledger reads it: members and
    /// groups first, then each event in order, a repeated one applied once.
    pub(crate) fn stream_batch(policy: &Policy, doc: StreamDoc) -> Result<Batch> {
        let mut builder =
            BatchBuilder::new(doc.members, &doc.groups, policy)?.streaming(&doc.groups);
        builder.reserve_stream(doc.events.len());
        for (row, event) in doc.events.into_iter().enumerate() {
            builder.take_row(row, StreamEvent::from_value(event))?;
        }
        builder.finish()
    }

    /// This builder's members and groups, its events dropped, taking a
    /// table's rows again one at a time ([`BatchBuilder::take_rows`]).
    pub(super) fn again(mut self) -> BatchBuilder<'static> {
        self.ids = crate::event_ids::EventIds::with_capacity(0);
        self.refund_rows = Vec::new();
        self.pending = Vec::new();
        self.pending_of = Packed::default();
        self.events = std::sync::Arc::new(crate::events::Events::new(self.policy.rounding().scale));
        self.failed = None;
        self.categories = Vec::new();
        self.category_codes = HashMap::default();
        self.times = self.policy.hold().map(crate::hold::Times::new);
        // Only a row whose id is used again can be compared with another:
        // the others' canonical JSON is not kept.
        let names = std::mem::take(&mut self.names);
        let mut repeated = vec![false; names.len()];
        let mut first: HashMap<&str, u32> = map_with_capacity(names.len());
        for i in 0..names.len() {
            let i = idx32(i);
            if let Some(&f) = first.get(names.get(i)) {
                for k in [f, i] {
                    if let Some(r) = repeated.get_mut(k as usize) {
                        *r = true;
                    }
                }
            } else {
                first.insert(names.get(i), i);
            }
        }
        drop(first);
        drop(names);
        // A table carries no group event: no group id is looked up.
        let mut again = self.streaming(&[]);
        if let Some(stream) = again.stream.as_deref_mut() {
            stream.repeated = Some(repeated);
        }
        again
    }

    /// Every event's id and row so far, shared: a batch holding them lets
    /// the builder take more only by copying them (see
    /// [`Live::return_events`]).
    ///
    /// [`Live::return_events`]: crate::live::Live::return_events
    pub(crate) fn shared_events(
        &self,
    ) -> (
        std::sync::Arc<Packed>,
        std::sync::Arc<crate::events::Events>,
    ) {
        (
            std::sync::Arc::clone(&self.names),
            std::sync::Arc::clone(&self.events),
        )
    }

    /// The batch of the events so far, the builder kept (it takes more).
    pub(crate) fn to_batch(&self) -> Result<Batch> {
        let ids = std::sync::Arc::new(self.member_names.clone());
        let forest = Forest::build(self.parent.clone(), &ids)?;
        Ok(Batch {
            ids,
            event_ids: std::sync::Arc::clone(&self.names),
            forest,
            input_rank: self.input_rank.clone(),
            input_active: self.input_active.clone(),
            attrs: self.attrs.clone(),
            groups: self.groups.clone(),
            events: std::sync::Arc::clone(&self.events),
            buyers: self.buyers,
            categories: self.categories.clone(),
            times: self.times.clone().map(std::sync::Arc::new),
            log: self.log.clone(),
        })
    }
}

impl BatchBuilder<'static> {
    /// Bring `live`, a batch of this builder ([`BatchBuilder::to_batch`])
    /// kept up with it since, to the events taken so far, `event` the last
    /// one: the ids of the members who joined, the member and group
    /// changes, categories and instants (the event ids and rows are the
    /// builder's own, lent: [`Live::lend_events`]). The members'
    /// own tables in `live` stay as it was made (a live state keeps the
    /// members as events move them, `Running`). Returns the members who
    /// joined since.
    ///
    /// [`Live::lend_events`]: crate::live::Live::lend_events
    pub(crate) fn sync(
        &self,
        live: &mut Batch,
        event: &StreamEvent,
    ) -> Result<std::ops::Range<usize>> {
        let joined = live.ids.len()..self.member_names.len();
        if !joined.is_empty() {
            let ids = std::sync::Arc::make_mut(&mut live.ids);
            for m in joined.clone() {
                ids.push(self.member_names.get(idx32(m)));
            }
        }
        if let Some(new) = self.categories.get(live.categories.len()..) {
            live.categories.extend_from_slice(new);
        }
        if let Some(new) = self.log.get(live.log.len()..) {
            live.log.extend_from_slice(new);
        }
        if let (Some(times), Some(kept)) = (&self.times, &mut live.times) {
            let kept = std::sync::Arc::make_mut(kept);
            if let Some(new) = times.at.get(kept.at.len()..) {
                kept.at.extend_from_slice(new);
            }
            if let (StreamEvent::Received(e), Ok(stream)) = (event, self.stream()) {
                let ids = stream.ids(&self.names);
                let order = stream.index.get(&e.received, |k| ids.get(k));
                let order = order.and_then(|j| stream.sales.get(j as usize).copied());
                if let Some((o, &at)) = order.and_then(|o| Some((o, times.received.get(&o)?))) {
                    kept.received.insert(o, at);
                }
            }
        }
        Ok(joined)
    }

    /// Member `m` as it stands now (one who just joined: as its event gave it).
    pub(crate) fn joining(&self, m: usize) -> Option<Joining> {
        let attrs = self
            .attrs
            .binary_search_by_key(&idx32(m), |(k, _)| *k)
            .ok()
            .and_then(|k| self.attrs.get(k))
            .map(|(_, a)| a.clone());
        Some(Joining {
            sponsor: *self.parent.get(m)?,
            rank: *self.input_rank.get(m)?,
            active: *self.input_active.get(m)?,
            attrs,
        })
    }
}

/// A member joining a period: its sponsor, input rank, activity and attributes.
#[derive(Debug, Clone)]
pub(crate) struct Joining {
    pub sponsor: u32,
    pub rank: crate::ids::RankIdx,
    pub active: bool,
    pub attrs: Option<BTreeMap<String, Decimal>>,
}

/// `slot` holding `text`, its string refilled rather than made anew.
fn refill(slot: &mut String, text: &str) {
    slot.clear();
    slot.push_str(text);
}

/// `field` set to `value` (`None`: emptied), its string reused.
fn set<T: Default>(field: &mut Option<T>, value: Option<&str>, string: fn(&mut T) -> &mut String) {
    match value {
        Some(v) => refill(string(field.get_or_insert_with(T::default)), v),
        None => *field = None,
    }
}

/// What [`Stream::texts`] keeps for an event the batch's tables give back.
/// Canonical JSON is an object: it never starts so.
const REMADE: &str = "=";
/// [`REMADE`] for an order with a buyer, which follows the mark.
const REMADE_BUYER: &str = "+";

/// Whether `event` is an order of a seller (and any buyer) or a refund,
/// with nothing but its id, that seller or order, and an amount written
/// with the policy's `scale` of decimals in units that fit 64 bits: what
/// the batch's tables keep exactly, so that its canonical JSON is made
/// again from them ([`BatchBuilder::stream_text`]) rather than kept.
fn plain_sale(event: &StreamEvent, scale: u32) -> bool {
    let StreamEvent::Sale(record) = event else {
        return false;
    };
    let EventRecord {
        id: _,
        seller,
        buyer,
        amount,
        at,
        refund_of,
        category,
        quantity,
    } = record;
    (seller.is_some() && refund_of.is_none()
        || refund_of.is_some() && seller.is_none() && buyer.is_none())
        && at.is_none()
        && category.is_none()
        && quantity.is_none()
        && amount.scale() == scale
        && i64::try_from(amount.mantissa()).is_ok_and(|units| units > 0)
}

/// Row `k` of a table's orders and refunds as the record a stream takes.
fn row_record<E: EventColumns + ?Sized>(docs: &E, k: usize) -> Result<EventRecord> {
    Ok(EventRecord {
        id: docs.id(k)?.into(),
        seller: docs.seller(k).map(Into::into),
        buyer: docs.buyer(k).map(str::to_owned),
        amount: docs.amount(k)?,
        at: docs.at(k).map(str::to_owned),
        refund_of: docs.refund_of(k).map(Into::into),
        category: docs.category(k).map(str::to_owned),
        quantity: docs.quantity(k),
    })
}

/// An event parser's error, its path put under that of event `i`.
fn name_event_at(e: Error, i: usize) -> Error {
    let at = format!("events[{i}]");
    e.map_path(|p| match p {
        "" | "$" => at,
        p if p.starts_with("line ") || p.starts_with("byte ") => format!("{at} {p}"),
        p => format!("{at}.{p}"),
    })
}
