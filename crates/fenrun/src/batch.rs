//! The validated batch (§2): members in a forest, groups, and events in input
//! order, every reference resolved to a dense index. Validation is complete
//! before anything is computed, so nothing is ever half-applied.

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::doc::BatchDoc;
use crate::error::{Error, Result};
use crate::graph::{Forest, NONE};
use crate::ids::MemberId;
use crate::index::{IdIndex, Inline, Packed};
use crate::input::{EventColumns, GroupRecord, MemberRecord};
use crate::money::{decimals_by_value, short_string};

/// Hash maps over ids from the input: foldhash (randomly seeded per map) is several
/// times faster than SipHash on short ids, which dominate loading a large batch.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

fn map_with_capacity<K, V>(n: usize) -> HashMap<K, V> {
    HashMap::with_capacity_and_hasher(n, foldhash::fast::RandomState::default())
}
use crate::policy::{Policy, RankIdx};

/// A group owned by a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Group {
    pub owner: u32,
    pub size: u64,
}

/// An order, its seller and buyer resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Order {
    pub seller: u32,
    /// The buyer when it is a member ([`NONE`] otherwise).
    pub buyer: u32,
    pub amount: Decimal,
}

/// A refund of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refund {
    /// Index of the order event in `events` (events are fewer than `u32::MAX`).
    pub order_event: u32,
    pub amount: Decimal,
    /// This refund brings the order's refunds to its full amount.
    pub completes: bool,
}

/// An event in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    Order(Order),
    Refund(Refund),
}

/// A validated batch for one policy. Build it with [`Batch::from_json`].
#[derive(Debug, Clone)]
pub struct Batch {
    pub(crate) ids: Arc<[MemberId]>,
    /// Event ids end to end in one buffer (no `String` per event).
    pub(crate) event_ids: Arc<Packed>,
    pub(crate) forest: Forest,
    pub(crate) input_rank: Vec<RankIdx>,
    pub(crate) input_active: Vec<bool>,
    pub(crate) attrs: Vec<BTreeMap<String, Decimal>>,
    pub(crate) groups: Vec<Group>,
    pub(crate) events: Vec<Event>,
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
    pub fn from_json(text: &str, policy: &Policy) -> Result<Batch> {
        Batch::from_doc(crate::doc::from_str(text)?, policy)
    }

    /// Parse and validate a batch from JSON bytes (must be UTF-8).
    pub fn from_slice(bytes: &[u8], policy: &Policy) -> Result<Batch> {
        Batch::from_doc(crate::doc::from_slice(bytes)?, policy)
    }

    /// Validate a batch given as a parsed JSON value.
    pub fn from_value(value: serde_json::Value, policy: &Policy) -> Result<Batch> {
        Batch::from_doc(crate::doc::from_value(value)?, policy)
    }

    /// Validate a batch given as typed records (a columnar reader's or a
    /// binding's output); see [`crate::input`].
    pub fn from_records(records: crate::input::BatchRecords, policy: &Policy) -> Result<Batch> {
        Batch::from_doc(records, policy)
    }

    /// Number of members.
    pub fn member_count(&self) -> usize {
        self.ids.len()
    }

    /// Number of events (orders and refunds).
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    pub(crate) fn id(&self, m: u32) -> &str {
        self.ids.get(m as usize).map_or("", MemberId::as_str)
    }

    fn from_doc(doc: BatchDoc, policy: &Policy) -> Result<Batch> {
        Batch::from_columns(doc.members, &doc.groups, doc.events.as_slice(), policy)
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
            n,
            |i| Ok(member_id(i)),
            member_name,
            |i, id, first| {
                if id.is_empty() {
                    return Err(Error::EmptyId {
                        path: format!("members[{i}].id"),
                    });
                }
                match first {
                    Some(first) => Err(Error::DuplicateMember {
                        path: format!("members[{i}].id"),
                        member: id.to_string(),
                        first: first as usize,
                    }),
                    None => Ok(()),
                }
            },
        )?;
        let member = |id: &str| index.get(id, member_name);
        let mut parent = Vec::with_capacity(n);
        let mut input_rank = Vec::with_capacity(n);
        let mut input_active = Vec::with_capacity(n);
        for (i, m) in members.iter().enumerate() {
            let p = match &m.sponsor {
                None => NONE,
                Some(s) if *s == m.id => {
                    return Err(Error::SelfSponsor {
                        path: format!("members[{i}].sponsor"),
                        member: m.id.to_string(),
                    })
                }
                Some(s) => member(s).ok_or_else(|| Error::UnknownSponsor {
                    path: format!("members[{i}].sponsor"),
                    member: m.id.to_string(),
                    sponsor: s.to_string(),
                })?,
            };
            parent.push(p);
            let rank = match &m.rank {
                None => 0,
                Some(r) => policy.rank_index(r).ok_or_else(|| Error::UnknownRank {
                    path: format!("members[{i}].rank"),
                    rank: r.to_string(),
                })?,
            };
            input_rank.push(rank);
            input_active.push(m.active.unwrap_or(true));
        }

        let mut groups = Vec::with_capacity(group_rows.len());
        let mut group_ids: HashMap<&str, usize> = map_with_capacity(group_rows.len());
        for (i, g) in group_rows.iter().enumerate() {
            if g.id.is_empty() {
                return Err(Error::EmptyId {
                    path: format!("groups[{i}].id"),
                });
            }
            if group_ids.insert(g.id.as_str(), i).is_some() {
                return Err(Error::DuplicateGroup {
                    path: format!("groups[{i}].id"),
                    group: g.id.to_string(),
                });
            }
            let owner = member(&g.owner).ok_or_else(|| Error::UnknownOwner {
                path: format!("groups[{i}].owner"),
                group: g.id.to_string(),
                owner: g.owner.to_string(),
            })?;
            let size = u64::try_from(g.size).map_err(|_| Error::NegativeSize {
                path: format!("groups[{i}].size"),
                group: g.id.to_string(),
                size: g.size,
            })?;
            groups.push(Group { owner, size });
        }

        if u32::try_from(event_rows.len()).map_or(true, |n| n == NONE) {
            return Err(Error::LimitExceeded {
                path: "events".into(),
                detail: format!(
                    "{} events is above the limit of {}",
                    event_rows.len(),
                    NONE - 1
                ),
            });
        }
        let (events, event_ids) = validate_events(event_rows, &index, &packed, policy, threads)?;

        // Validation is done with borrowed ids; now move them instead of cloning.
        drop(index);
        let (ids, attrs): (Vec<MemberId>, Vec<BTreeMap<String, Decimal>>) =
            members.into_iter().map(|m| (m.id, m.attrs)).unzip();
        let ids: Arc<[MemberId]> = ids.into();
        let forest = Forest::build(parent, &ids)?;
        Ok(Batch {
            ids,
            event_ids: Arc::new(event_ids),
            forest,
            input_rank,
            input_active,
            attrs,
            groups,
            events,
        })
    }
}

/// Validate the events in input order; returns them with their ids packed.
fn validate_events<E: EventColumns + Sync + ?Sized>(
    docs: &E,
    members: &IdIndex<Inline>,
    member_names: &Packed,
    policy: &Policy,
    threads: usize,
) -> Result<(Vec<Event>, Packed)> {
    let scale = policy.rounding().scale;
    let n = docs.len();
    // Sellers and buyers are resolved first, in a loop that does nothing else, so
    // that many lookups are in flight at once; an unknown one is reported below,
    // in input order with every other check. `UNKNOWN` marks a name not found.
    const UNKNOWN: u32 = NONE - 1;
    // Member indices stop below `NONE - 1` (the member limit), so `UNKNOWN` is free.
    let resolve = |sellers: bool| {
        let name = |i| {
            if sellers {
                docs.seller(i)
            } else {
                docs.buyer(i)
            }
        };
        let mut found = Vec::with_capacity(n);
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
        found
    };
    // Event id → index. Built first so a refund before its order is told apart
    // from a refund of an order that does not exist. Probes compare against the
    // input's own ids; the batch keeps a packed copy.
    let index_ids = || -> Result<(IdIndex<u32>, Packed)> {
        let input_id = |j: u32| docs.id(j as usize).unwrap_or("");
        let mut ids = IdIndex::<u32>::with_capacity(n);
        let mut names = Packed::with_capacity(n);
        ids.insert_all(
            n,
            |i| docs.id(i),
            input_id,
            |i, id, first| {
                names.push(id);
                if id.is_empty() {
                    return Err(Error::EmptyId {
                        path: format!("events[{i}].id"),
                    });
                }
                match first {
                    Some(first) => Err(Error::DuplicateEvent {
                        path: format!("events[{i}].id"),
                        event: id.to_string(),
                        first: first as usize,
                    }),
                    None => Ok(()),
                }
            },
        )?;
        Ok((ids, names))
    };
    // The two share nothing but reads: apart, they can run at once.
    let (sellers, buyers, indexed) = if threads > 1 {
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
    let (ids, names) = indexed?;
    let event_name = |j: u32| names.get(j);
    let mut refunded: HashMap<usize, Decimal> = HashMap::default();
    let mut events = Vec::with_capacity(n);
    for i in 0..n {
        let refund_of = docs.refund_of(i);
        let id = || event_name(i as u32).to_owned();
        let record = if refund_of.is_some() {
            "refund"
        } else {
            "order"
        };
        let amount = docs.amount(i)?;
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
        if let Some(at) = docs.at(i) {
            check_timestamp(at).map_err(|detail| Error::InvalidTimestamp {
                path: format!("events[{i}].at"),
                event: id(),
                at: at.to_owned(),
                detail,
            })?;
        }
        match refund_of {
            Some(of) => {
                // Resolved above: `NONE` is an absent name, anything else a given one.
                let given = |v: &[u32]| v.get(i).is_some_and(|&m| m != NONE);
                for (field, present) in [("seller", given(&sellers)), ("buyer", given(&buyers))] {
                    if present {
                        return Err(Error::UnknownField {
                            path: format!("events[{i}]"),
                            field: field.into(),
                        });
                    }
                }
                let order = ids.get(of, event_name).map(|j| j as usize);
                let order_amount = match order {
                    Some(j) if j < i => match events.get(j) {
                        Some(Event::Order(o)) => Some(o.amount),
                        _ => None,
                    },
                    _ => None,
                };
                let (order_event, order_amount) = match (order, order_amount) {
                    (Some(j), Some(amount)) => (j, amount),
                    (Some(j), None) if j > i && docs.refund_of(j).is_none() => {
                        return Err(Error::RefundBeforeOrder {
                            path: format!("events[{i}].refund_of"),
                            refund: id(),
                            order: of.to_string(),
                            order_index: j,
                        })
                    }
                    _ => {
                        return Err(Error::UnknownOrder {
                            path: format!("events[{i}].refund_of"),
                            refund: id(),
                            order: of.to_string(),
                        })
                    }
                };
                let so_far = refunded.entry(order_event).or_insert(Decimal::ZERO);
                let total = so_far.checked_add(amount).ok_or_else(|| Error::Overflow {
                    path: format!("events[{i}].amount"),
                    detail: format!("refunds of order \"{of}\""),
                })?;
                if total > order_amount {
                    return Err(Error::OverRefund {
                        path: format!("events[{i}].amount"),
                        refund: id(),
                        order: of.to_string(),
                        refunded: short_string(total),
                        amount: short_string(order_amount),
                    });
                }
                *so_far = total;
                events.push(Event::Refund(Refund {
                    order_event: order_event as u32,
                    amount,
                    completes: total == order_amount,
                }));
            }
            None => {
                let buyer = match buyers.get(i).copied().unwrap_or(NONE) {
                    UNKNOWN => NONE,
                    b => b,
                };
                let seller = match sellers.get(i).copied().unwrap_or(NONE) {
                    UNKNOWN => {
                        return Err(Error::UnknownSeller {
                            path: format!("events[{i}].seller"),
                            order: id(),
                            seller: docs.seller(i).unwrap_or_default().to_owned(),
                        })
                    }
                    NONE if buyer != NONE => buyer,
                    NONE => {
                        return Err(Error::NoSeller {
                            path: format!("events[{i}].seller"),
                            order: id(),
                            buyer: docs
                                .buyer(i)
                                .map_or_else(|| "(none)".to_owned(), |b| format!("\"{b}\"")),
                        })
                    }
                    s => s,
                };
                events.push(Event::Order(Order {
                    seller,
                    buyer,
                    amount,
                }));
            }
        }
    }
    Ok((events, names))
}

fn check_timestamp(at: &str) -> std::result::Result<(), String> {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    /// Ten million events are held at once: their size is memory first touched.
    #[test]
    fn events_stay_small() {
        assert_eq!(std::mem::size_of::<super::Event>(), 28);
    }
}
