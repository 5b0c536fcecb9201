//! Batch records built in code rather than parsed from JSON: what a columnar
//! reader (Parquet, CSV, Arrow) or a language binding hands to the core.
//!
//! They carry exactly the fields of the §2 records, already typed; the
//! validation of meaning (unknown sponsor, cycles, over-refunds, scale of
//! amounts, …) is the same as for a JSON batch, with the same codes and paths:
//! `members[i]`, `groups[i]` and `events[i]` name the i-th record given here.
//!
//! ```
//! use fenrun::input::{BatchRecords, EventRecord, MemberRecord};
//! let policy = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member", "rate": "0.10"}],
//!   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
//! let records = BatchRecords {
//!     members: vec![MemberRecord::new("m1")],
//!     groups: vec![],
//!     events: vec![EventRecord::order("o1", Some("m1"), None, "80.00".parse().unwrap())],
//! };
//! let batch = fenrun::Batch::from_records(records, &policy)?;
//! let settlement = fenrun::settle(&policy, batch)?;
//! assert_eq!(settlement.total_of("m1").unwrap().to_string(), "8.00");
//! # Ok::<(), fenrun::Error>(())
//! ```

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{EventId, GroupId, MemberId, RankId};

/// Parse a decimal string of the strict form `-?[0-9]+(\.[0-9]+)?` (the form of
/// every decimal in fenrun's inputs), naming `path` in the `invalid_decimal` error.
///
/// ```
/// assert_eq!(fenrun::input::parse_decimal("12.30", "orders[0].amount").unwrap().to_string(), "12.30");
/// let err = fenrun::input::parse_decimal("1e3", "orders[0].amount").unwrap_err();
/// assert_eq!((err.code(), err.path()), ("invalid_decimal", "orders[0].amount"));
/// ```
pub fn parse_decimal(text: &str, path: &str) -> Result<Decimal> {
    crate::money::parse_decimal(text).map_err(|detail| Error::InvalidDecimal {
        path: path.to_owned(),
        detail,
    })
}

/// A member (§2.1). Serialized as the record it was read from, absent fields
/// omitted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MemberRecord {
    /// Unique, non-empty id.
    pub id: MemberId,
    /// The referrer (推荐人); `None` for a root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<MemberId>,
    /// Input rank; `None` means the lowest rank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<RankId>,
    /// `None` means active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Named decimals conditions can test (top-ups 储值, fees paid, …).
    #[serde(
        default,
        deserialize_with = "crate::money::de_decimal_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub attrs: BTreeMap<String, Decimal>,
}

impl MemberRecord {
    /// A root member with the lowest rank, active, no attributes.
    pub fn new(id: &str) -> MemberRecord {
        MemberRecord {
            id: id.into(),
            ..MemberRecord::default()
        }
    }
}

/// A group (§2.2).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRecord {
    /// Unique group id.
    pub id: GroupId,
    /// The group owner (群主).
    pub owner: MemberId,
    /// Head count; negative is an error.
    pub size: i64,
}

/// An order, or a refund when `refund_of` is set (§2.3).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventRecord {
    /// Unique event id.
    pub id: EventId,
    /// The selling member; when absent the buyer must be a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<MemberId>,
    /// Any string; a consumer needs no member record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer: Option<String>,
    /// Order or refund amount, > 0, at most the policy scale in decimals.
    #[serde(deserialize_with = "crate::money::de_decimal")]
    pub amount: Decimal,
    /// Optional RFC 3339 date-time, validated, never used to reorder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The order this refund reverses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_of: Option<EventId>,
    /// The order's product category (version 2, §12.1); a refund has its
    /// order's and carries none. JSON `null` is refused.
    #[serde(
        default,
        deserialize_with = "present_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub category: Option<String>,
    /// How many units the order is of (version 2, §12.5: per-unit fixed
    /// amounts and rounding read it); at least 1, 1 when absent. A refund
    /// carries none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
}

/// A string that, when the field is present, is not `null`.
fn present_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

impl EventRecord {
    /// An order.
    pub fn order(id: &str, seller: Option<&str>, buyer: Option<&str>, amount: Decimal) -> Self {
        EventRecord {
            id: id.into(),
            seller: seller.map(Into::into),
            buyer: buyer.map(str::to_owned),
            amount,
            at: None,
            refund_of: None,
            category: None,
            quantity: None,
        }
    }

    /// A refund of `order`.
    pub fn refund(id: &str, order: &str, amount: Decimal) -> Self {
        EventRecord {
            id: id.into(),
            refund_of: Some(order.into()),
            amount,
            ..EventRecord::default()
        }
    }
}

/// Events given by column: what a columnar reader (Arrow, Parquet) hands to
/// the core without building a record, and a `String` per cell, for every row.
/// Row `i` is `events[i]` in error paths; ids are copied once into the batch.
/// Implemented for `[EventRecord]`.
///
/// The getters are called with `i < len()` only. Fields mean what they mean
/// in [`EventRecord`]; a cell a reader cannot give (a missing id or amount, an
/// amount outside the exact decimal range) is an error naming `events[i].<field>`.
///
/// ```
/// use fenrun::input::{EventColumns, EventRecord};
/// let rows = [EventRecord::order("o1", Some("m1"), None, "9.90".parse().unwrap()),
///             EventRecord::refund("r1", "o1", "1.00".parse().unwrap())];
/// let events: &[EventRecord] = &rows;
/// assert_eq!((events.len(), events.seller(0), events.refund_of(1)), (2, Some("m1"), Some("o1")));
/// let policy = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}]}"#)?;
/// let batch = fenrun::Batch::from_columns(vec![fenrun::input::MemberRecord::new("m1")], &[], events, &policy)?;
/// assert_eq!(batch.event_count(), 2);
/// # Ok::<(), fenrun::Error>(())
/// ```
pub trait EventColumns {
    /// Number of rows.
    fn len(&self) -> usize;
    /// No rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Row `i`'s event id.
    fn id(&self, i: usize) -> Result<&str>;
    /// Row `i`'s event id when the columns have one, never a different id
    /// from [`EventColumns::id`]'s: the validator's fast path, which keeps
    /// the answer in registers where a `Result` the size of an [`Error`]
    /// goes through memory. `None` sends the row through `id` for its
    /// error. The default asks `id`.
    fn id_if_any(&self, i: usize) -> Option<&str> {
        self.id(i).ok()
    }
    /// Row `i`'s seller, if any.
    fn seller(&self, i: usize) -> Option<&str>;
    /// Row `i`'s buyer, if any.
    fn buyer(&self, i: usize) -> Option<&str>;
    /// Row `i`'s amount, exact.
    fn amount(&self, i: usize) -> Result<Decimal>;
    /// Row `i`'s amount as an integer of units at `scale` decimals, when the
    /// columns tell it without making a [`Decimal`] (a decimal column of
    /// `scale` decimals or fewer, say) and it fits in 64 bits: a shortcut the
    /// validator takes for orders whose units are positive, never a
    /// different value from [`EventColumns::amount`]'s. `None` (the default)
    /// sends the row through `amount` and its checks.
    fn amount_units(&self, i: usize, scale: u32) -> Option<i64> {
        let _ = (i, scale);
        None
    }
    /// Row `i`'s date-time text, if any.
    fn at(&self, i: usize) -> Option<&str>;
    /// The order row `i` refunds, if it is a refund.
    fn refund_of(&self, i: usize) -> Option<&str>;
    /// Row `i`'s category, if any (§12.1). The default: none.
    fn category(&self, i: usize) -> Option<&str> {
        let _ = i;
        None
    }
    /// Row `i`'s quantity, if given (§12.5). The default: none.
    fn quantity(&self, i: usize) -> Option<u32> {
        let _ = i;
        None
    }
    /// Bytes of all the rows' ids, if known without reading them (a column's
    /// text length): a hint the validator reserves room with, never read for
    /// meaning.
    fn id_bytes(&self) -> Option<usize> {
        None
    }
}

impl EventColumns for [EventRecord] {
    fn len(&self) -> usize {
        <[EventRecord]>::len(self)
    }
    fn id(&self, i: usize) -> Result<&str> {
        Ok(self.get(i).map_or("", |e| e.id.as_str()))
    }
    fn seller(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(|e| e.seller.as_deref())
    }
    fn buyer(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(|e| e.buyer.as_deref())
    }
    fn amount(&self, i: usize) -> Result<Decimal> {
        Ok(self.get(i).map_or(Decimal::ZERO, |e| e.amount))
    }
    fn at(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(|e| e.at.as_deref())
    }
    fn refund_of(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(|e| e.refund_of.as_deref())
    }
    fn category(&self, i: usize) -> Option<&str> {
        self.get(i).and_then(|e| e.category.as_deref())
    }
    fn quantity(&self, i: usize) -> Option<u32> {
        self.get(i).and_then(|e| e.quantity)
    }
    fn id_bytes(&self) -> Option<usize> {
        Some(self.iter().map(|e| e.id.len()).sum())
    }
}

/// A member as a ledger event carries it (§14): a member that joins, or the
/// fields of an existing member that change. Fields left out are kept.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    /// The member's id: a new id joins, a known one is updated.
    pub id: MemberId,
    /// The sponsor: absent keeps it (or makes a root of a new member),
    /// `Some(None)` (JSON `null`) makes the member a root.
    #[serde(
        default,
        deserialize_with = "present_or_null",
        skip_serializing_if = "Option::is_none"
    )]
    pub sponsor: Option<Option<MemberId>>,
    /// A new member's rank; an update carrying a rank is refused (ranks
    /// move only by evaluation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<RankId>,
    /// Whether the member is active (default for a new member: true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// The member's attributes, replaced as a whole when given.
    #[serde(
        default,
        deserialize_with = "some_decimal_map",
        skip_serializing_if = "Option::is_none"
    )]
    pub attrs: Option<BTreeMap<String, Decimal>>,
}

fn present_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<MemberId>>, D::Error> {
    Option::<MemberId>::deserialize(d).map(Some)
}

fn some_decimal_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<BTreeMap<String, Decimal>>, D::Error> {
    crate::money::de_decimal_map(d).map(Some)
}

/// One event of a ledger's stream (§14), or of a version-2 batch's `events`:
/// an order or refund, a member joining or changing, a group created or
/// resized, or an order received (the start of its hold period, §14.1).
///
/// ```
/// use fenrun::input::StreamEvent;
/// let event = StreamEvent::from_json(r#"{"id": "e1", "member": {"id": "m9", "sponsor": "m4"}}"#)?;
/// assert_eq!(event.id(), "e1");
/// // The canonical form: fields in record order, no whitespace.
/// assert_eq!(event.to_json(), r#"{"id":"e1","member":{"id":"m9","sponsor":"m4"}}"#);
/// let err = StreamEvent::from_json(r#"{"id": "o1", "seller": "m1", "amount": 9.9}"#).unwrap_err();
/// assert_eq!((err.code(), err.path()), ("float_number", "amount"));
/// # Ok::<(), fenrun::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// An order, or a refund when `refund_of` is set (§2.3).
    Sale(EventRecord),
    /// `{"id", "member": {...}, "at"?}`: a member joins or changes.
    Member(MemberEvent),
    /// `{"id", "group": {"id", "owner", "size"}, "at"?}`: a group is created,
    /// or its owner and size replaced.
    Group(GroupEvent),
    /// `{"id", "received": order id, "at"}`: the order reached its buyer.
    Received(ReceivedEvent),
}

/// A member event (see [`StreamEvent::Member`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEvent {
    /// The event's id.
    pub id: EventId,
    /// The member.
    pub member: MemberChange,
    /// Optional RFC 3339 date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// A group event (see [`StreamEvent::Group`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupEvent {
    /// The event's id.
    pub id: EventId,
    /// The group as it now is.
    pub group: GroupRecord,
    /// Optional RFC 3339 date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// An order received by its buyer (see [`StreamEvent::Received`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReceivedEvent {
    /// The event's id.
    pub id: EventId,
    /// The order received.
    pub received: EventId,
    /// When (RFC 3339), required.
    pub at: String,
}

impl StreamEvent {
    /// Parse one event from JSON text (a line of an event stream). Paths in
    /// errors are the event's own (`amount`, `member.sponsor`).
    pub fn from_json(text: &str) -> Result<StreamEvent> {
        // Most events are orders: read straight into the record. A text that
        // is one has no `member`, `group` or `received` key (unknown fields
        // are refused), so this is the reading below; anything else (another
        // kind, or an error to name) takes the general path.
        if let Ok(sale) = serde_json::from_str::<EventRecord>(text) {
            return Ok(StreamEvent::Sale(sale));
        }
        StreamEvent::from_value(crate::doc::from_str(text)?)
    }

    /// Parse one event given as a JSON value. The kind is told by the key
    /// the event carries: `member`, `group`, `received`, else an order or a
    /// refund.
    pub fn from_value(value: serde_json::Value) -> Result<StreamEvent> {
        let has = |key: &str| value.get(key).is_some();
        Ok(if has("member") {
            StreamEvent::Member(crate::doc::from_value(value)?)
        } else if has("group") {
            StreamEvent::Group(crate::doc::from_value(value)?)
        } else if has("received") {
            StreamEvent::Received(crate::doc::from_value(value)?)
        } else {
            StreamEvent::Sale(crate::doc::from_value(value)?)
        })
    }

    /// The event's id.
    pub fn id(&self) -> &str {
        match self {
            StreamEvent::Sale(e) => &e.id,
            StreamEvent::Member(e) => &e.id,
            StreamEvent::Group(e) => &e.id,
            StreamEvent::Received(e) => &e.id,
        }
    }

    /// The event's date-time, if it has one.
    pub fn at(&self) -> Option<&str> {
        match self {
            StreamEvent::Sale(e) => e.at.as_deref(),
            StreamEvent::Member(e) => e.at.as_deref(),
            StreamEvent::Group(e) => e.at.as_deref(),
            StreamEvent::Received(e) => Some(&e.at),
        }
    }

    /// The canonical JSON of the event: its record's fields in order, absent
    /// ones left out, no whitespace, decimals as written. Two events are the
    /// same event (§14 idempotence) when their canonical forms are equal.
    pub fn to_json(&self) -> String {
        let text = match self {
            StreamEvent::Sale(e) => serde_json::to_string(e),
            StreamEvent::Member(e) => serde_json::to_string(e),
            StreamEvent::Group(e) => serde_json::to_string(e),
            StreamEvent::Received(e) => serde_json::to_string(e),
        };
        // Records of strings, booleans, integers and decimal strings always serialize.
        text.unwrap_or_default()
    }
}

/// A whole batch as records: events in the order they happened. This is also
/// the serde shape of the §2.4 JSON document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRecords {
    /// Members, in any order.
    pub members: Vec<MemberRecord>,
    /// Groups, in any order.
    #[serde(default)]
    pub groups: Vec<GroupRecord>,
    /// Orders and refunds in input order.
    pub events: Vec<EventRecord>,
}

/// Parse one table given as JSON records (a binding's list of dicts) into
/// typed records, checking their shape only (unknown fields, missing fields,
/// types, money as strings or integers). Paths name the table and row:
/// `orders[3].amount`.
///
/// ```
/// use fenrun::input::{rows_from_value, EventRecord};
/// let rows = serde_json::json!([{"id": "o1", "seller": "m1", "amount": "9.90"},
///                               {"id": "o2", "seller": "m1", "amount": 9.9}]);
/// let err = rows_from_value::<EventRecord>("orders", rows).unwrap_err();
/// assert_eq!((err.code(), err.path()), ("float_number", "orders[1].amount"));
/// ```
pub fn rows_from_value<T: serde::de::DeserializeOwned>(
    table: &str,
    rows: serde_json::Value,
) -> Result<Vec<T>> {
    crate::doc::from_value::<Vec<T>>(rows).map_err(|e| {
        e.map_path(|p| match p {
            "$" | "" => table.to_owned(),
            p if p.starts_with('[') => format!("{table}{p}"),
            p => format!("{table}.{p}"),
        })
    })
}

/// Parse JSON text into a value, with the core's `invalid_json` error (line and
/// column) for text that is not JSON: for bindings that inspect a document
/// (as with [`require_string_money`]) before validating it.
pub fn value_from_json(text: &str) -> Result<serde_json::Value> {
    crate::doc::from_str(text)
}

/// Refuse money given as a JSON number in a batch document (`events[i].amount`,
/// `members[i].attrs.*`), for bindings whose numbers are binary floats: a
/// JavaScript object's `12.5` or `12` is a float that only happens to be
/// exact. Text documents keep the JSON rule (integers allowed).
///
/// ```
/// let batch = serde_json::json!({"members": [{"id": "m1"}],
///     "events": [{"id": "o1", "seller": "m1", "amount": 12}]});
/// let err = fenrun::input::require_string_money(&batch).unwrap_err();
/// assert_eq!((err.code(), err.path()), ("number_money", "events[0].amount"));
/// ```
pub fn require_string_money(batch: &serde_json::Value) -> Result<()> {
    let refuse = |path: String, n: &serde_json::Value| Error::NumberMoney {
        path,
        detail: format!("the number {n}"),
    };
    let list = |key: &str| batch.get(key).and_then(serde_json::Value::as_array);
    for (i, m) in list("members").into_iter().flatten().enumerate() {
        let attrs = m.get("attrs").and_then(serde_json::Value::as_object);
        for (k, v) in attrs.into_iter().flatten() {
            if v.is_number() {
                return Err(refuse(format!("members[{i}].attrs.{k}"), v));
            }
        }
    }
    for (i, e) in list("events").into_iter().flatten().enumerate() {
        require_string_money_event(e).map_err(|e| e.map_path(|p| format!("events[{i}].{p}")))?;
    }
    Ok(())
}

/// [`require_string_money`] for one event of a stream (an order's or a
/// refund's `amount`, a member event's `member.attrs.*`); paths are the
/// event's own (`amount`).
///
/// ```
/// let event = serde_json::json!({"id": "e1", "member": {"id": "m1", "attrs": {"topup": 100}}});
/// let err = fenrun::input::require_string_money_event(&event).unwrap_err();
/// assert_eq!((err.code(), err.path()), ("number_money", "member.attrs.topup"));
/// ```
pub fn require_string_money_event(event: &serde_json::Value) -> Result<()> {
    let refuse = |path: String, n: &serde_json::Value| Error::NumberMoney {
        path,
        detail: format!("the number {n}"),
    };
    if let Some(n) = event.get("amount").filter(|a| a.is_number()) {
        return Err(refuse("amount".into(), n));
    }
    let attrs = event
        .get("member")
        .and_then(|m| m.get("attrs"))
        .and_then(serde_json::Value::as_object);
    for (k, v) in attrs.into_iter().flatten() {
        if v.is_number() {
            return Err(refuse(format!("member.attrs.{k}"), v));
        }
    }
    Ok(())
}

/// `path` with the index of its leading `events[i]` changed by `f` (given
/// `i`, returning the new prefix, e.g. `orders[3]`); other paths unchanged.
/// How a reader of chunks or of several tables renames the core's paths.
///
/// ```
/// let shifted = fenrun::input::map_event_index("events[2].amount", |i| format!("events[{}]", i + 10));
/// assert_eq!(shifted, "events[12].amount");
/// assert_eq!(fenrun::input::map_event_index("members[2].id", |i| format!("x{i}")), "members[2].id");
/// ```
pub fn map_event_index(path: &str, f: impl FnOnce(usize) -> String) -> String {
    let index = path
        .strip_prefix("events[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(i, tail)| Some((i.parse::<usize>().ok()?, tail)));
    match index {
        Some((i, tail)) => format!("{}{tail}", f(i)),
        None => path.to_owned(),
    }
}
