//! The one error type of fenrun, with a stable machine code per variant.
//!
//! Every variant carries the JSON path of the offending value (`members[3].sponsor`)
//! and a message that names the record. Bindings map [`Error::code`] to their
//! own exception classes and hand the message on unchanged.

use serde::Serialize;

/// The family an error belongs to; bindings map a family to an exception class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorFamily {
    /// The document is not well-formed JSON of the expected shape.
    Format,
    /// The policy is well-formed but not valid.
    Policy,
    /// The batch (members, groups, events) is well-formed but not valid.
    Input,
    /// A size or count limit was exceeded.
    Limit,
    /// A computation left the range of exact decimal arithmetic.
    Arithmetic,
    /// Writing the result failed (a line sink's error).
    Output,
    /// A bug in fenrun: an invariant broke. Report it with the input.
    Internal,
}

impl ErrorFamily {
    /// Every family, in the order of the docs.
    pub const ALL: [ErrorFamily; 7] = [
        ErrorFamily::Format,
        ErrorFamily::Policy,
        ErrorFamily::Input,
        ErrorFamily::Limit,
        ErrorFamily::Arithmetic,
        ErrorFamily::Output,
        ErrorFamily::Internal,
    ];

    /// The family's name as in error reports (`"policy"`).
    pub fn name(self) -> &'static str {
        match self {
            ErrorFamily::Format => "format",
            ErrorFamily::Policy => "policy",
            ErrorFamily::Input => "input",
            ErrorFamily::Limit => "limit",
            ErrorFamily::Arithmetic => "arithmetic",
            ErrorFamily::Output => "output",
            ErrorFamily::Internal => "internal",
        }
    }

    /// The family of an error code, for bindings that build their exception
    /// classes ahead of any error (`None` for a code this library never returns).
    ///
    /// ```
    /// use fenrun::ErrorFamily;
    /// assert_eq!(ErrorFamily::of_code("sponsor_cycle"), Some(ErrorFamily::Input));
    /// assert_eq!(ErrorFamily::of_code("decreasing_rate"), Some(ErrorFamily::Policy));
    /// assert_eq!(ErrorFamily::of_code("no_such_code"), None);
    /// ```
    pub fn of_code(code: &str) -> Option<ErrorFamily> {
        // By name, not by position in `CODES`: a code added anywhere in the
        // list cannot shift another into the wrong family.
        Some(match code {
            "invalid_json" | "invalid_table" | "unknown_field" | "missing_field"
            | "invalid_type" | "float_number" | "number_money" | "invalid_decimal"
            | "invalid_value" | "invalid_snapshot" | "foreign_snapshot" | "invalid_part" => {
                ErrorFamily::Format
            }
            "unsupported_version"
            | "invalid_scale"
            | "rate_out_of_range"
            | "no_ranks"
            | "duplicate_rank"
            | "decreasing_rate"
            | "lowest_rank_upgrade"
            | "lowest_rank_retain"
            | "needs_version_2"
            | "unknown_rank"
            | "duplicate_rule"
            | "invalid_condition"
            | "invalid_rule"
            | "not_splittable" => ErrorFamily::Policy,
            "limit_exceeded" => ErrorFamily::Limit,
            "arithmetic_overflow" => ErrorFamily::Arithmetic,
            "sink_error" => ErrorFamily::Output,
            "internal" => ErrorFamily::Internal,
            c if Error::CODES.contains(&c) => ErrorFamily::Input,
            _ => return None,
        })
    }
}

/// Bind the `path` field of any variant (every variant has one).
macro_rules! each_path {
    ($e:expr, $p:ident => $body:expr) => {
        match $e {
                Error::InvalidJson { path: $p, .. }
            | Error::InvalidTable { path: $p, .. }
                | Error::UnknownField { path: $p, .. }
                | Error::MissingField { path: $p, .. }
                | Error::InvalidType { path: $p, .. }
                | Error::FloatNumber { path: $p, .. }
                | Error::NumberMoney { path: $p, .. }
                | Error::InvalidDecimal { path: $p, .. }
                | Error::InvalidValue { path: $p, .. }
                | Error::UnsupportedVersion { path: $p, .. }
                | Error::InvalidScale { path: $p, .. }
                | Error::RateOutOfRange { path: $p, .. }
                | Error::NoRanks { path: $p }
                | Error::DuplicateRank { path: $p, .. }
                | Error::DecreasingRate { path: $p, .. }
                | Error::LowestRankUpgrade { path: $p, .. }
                | Error::LowestRankRetain { path: $p, .. }
                | Error::NeedsVersion2 { path: $p, .. }
                | Error::UnknownRank { path: $p, .. }
                | Error::DuplicateRule { path: $p, .. }
                | Error::InvalidCondition { path: $p, .. }
                | Error::InvalidRule { path: $p, .. }
                | Error::EmptyId { path: $p }
                | Error::DuplicateMember { path: $p, .. }
                | Error::UnknownSponsor { path: $p, .. }
                | Error::SelfSponsor { path: $p, .. }
                | Error::SponsorCycle { path: $p, .. }
                | Error::DuplicateGroup { path: $p, .. }
                | Error::UnknownOwner { path: $p, .. }
                | Error::NegativeSize { path: $p, .. }
                | Error::DuplicateEvent { path: $p, .. }
                | Error::UnknownSeller { path: $p, .. }
                | Error::NoSeller { path: $p, .. }
                | Error::NonPositiveAmount { path: $p, .. }
                | Error::TooManyDecimals { path: $p, .. }
                | Error::InvalidTimestamp { path: $p, .. }
                | Error::UnknownOrder { path: $p, .. }
                | Error::RefundBeforeOrder { path: $p, .. }
                | Error::OverRefund { path: $p, .. }
                | Error::LimitExceeded { path: $p, .. }
                | Error::Overflow { path: $p, .. }
                | Error::OrderNotSettled { path: $p, .. }
                | Error::EventConflict { path: $p, .. }
                | Error::RankUpdate { path: $p, .. }
                | Error::NotAnOrder { path: $p, .. }
                | Error::ReceivedTwice { path: $p, .. }
                | Error::MissingTime { path: $p, .. }
                | Error::InvalidSnapshot { path: $p, .. }
                | Error::ForeignSnapshot { path: $p, .. }
                | Error::InvalidPart { path: $p, .. }
                | Error::NotSplittable { path: $p, .. }
                | Error::SinkError { path: $p, .. }
                | Error::Internal { path: $p, .. } => $body,
        }
    };
}

/// Every way fenrun can refuse an input.
///
/// The `path` of each variant is the JSON path of the offending value, the
/// message names the record by index and id. See `docs/errors.md` for the
/// catalogue with examples.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Not JSON at all (syntax error, truncated input, not UTF-8).
    #[error("{path}: invalid JSON: {detail}")]
    InvalidJson {
        /// Where the parser stopped (`line 3 column 7`).
        path: String,
        /// What the parser said.
        detail: String,
    },
    /// A table (Parquet, CSV, Arrow) that cannot be read, or a column whose
    /// type cannot hold its field (a list where an id belongs).
    #[error("{path}: invalid table: {detail}")]
    InvalidTable {
        /// The table, or `table.column`.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// A field that the format does not know (a misspelt `sponser`).
    #[error("{path}: unknown field `{field}`")]
    UnknownField {
        /// Path of the record holding the field.
        path: String,
        /// The unknown field's name.
        field: String,
    },
    /// A required field is absent.
    #[error("{path}: missing field `{field}`")]
    MissingField {
        /// Path of the record missing the field.
        path: String,
        /// The missing field's name.
        field: String,
    },
    /// A value of the wrong JSON type (a string where a list is expected, …).
    #[error("{path}: {detail}")]
    InvalidType {
        /// Path of the value.
        path: String,
        /// What was expected and what was found.
        detail: String,
    },
    /// Money, a rate or a threshold given as a JSON number with a fraction or exponent.
    #[error("{path}: {detail}: decimals must be JSON strings (\"12.50\") or integers, never floating-point numbers")]
    FloatNumber {
        /// Path of the value.
        path: String,
        /// The number as written.
        detail: String,
    },
    /// Money given as a number where a binding requires decimal strings: a
    /// JavaScript object's numbers are binary floats, exact only by luck.
    #[error("{path}: {detail}: money must be a decimal string (\"12.50\") here; a JavaScript number cannot carry it exactly")]
    NumberMoney {
        /// Path of the value.
        path: String,
        /// The number as given.
        detail: String,
    },
    /// A string that is not a plain decimal (`-?[0-9]+(\.[0-9]+)?`) or is out of range.
    #[error("{path}: {detail}")]
    InvalidDecimal {
        /// Path of the value.
        path: String,
        /// Why it was refused.
        detail: String,
    },
    /// Any other value outside its domain (unknown enum name, bad count, …).
    #[error("{path}: {detail}")]
    InvalidValue {
        /// Path of the value.
        path: String,
        /// Why it was refused.
        detail: String,
    },
    /// The policy's `version` is not one this library implements.
    #[error(
        "{path}: unsupported policy version {version}; this library implements versions 1 and 2"
    )]
    UnsupportedVersion {
        /// Path of the version field.
        path: String,
        /// The version found.
        version: i64,
    },
    /// `rounding.scale` above 8.
    #[error("{path}: scale {scale} is out of range 0..=8")]
    InvalidScale {
        /// Path of the scale field.
        path: String,
        /// The scale found.
        scale: u64,
    },
    /// A rate or `order_cap` outside [0, 1].
    #[error("{path}: rate {rate} is outside [0, 1]")]
    RateOutOfRange {
        /// Path of the rate.
        path: String,
        /// The rate as written.
        rate: String,
    },
    /// The ladder is empty.
    #[error("{path}: the policy needs at least one rank")]
    NoRanks {
        /// Path of the ranks list.
        path: String,
    },
    /// Two ranks with the same id.
    #[error("{path}: rank \"{rank}\" is defined twice")]
    DuplicateRank {
        /// Path of the second definition.
        path: String,
        /// The rank id.
        rank: String,
    },
    /// A rank's rate is lower than the rank below it.
    #[error(
        "{path}: rank \"{rank}\" has rate {rate}, lower than {below_rate} of the rank below it"
    )]
    DecreasingRate {
        /// Path of the rate.
        path: String,
        /// The rank id.
        rank: String,
        /// Its rate.
        rate: String,
        /// The rate of the rank below.
        below_rate: String,
    },
    /// The lowest rank has an `upgrade` condition.
    #[error("{path}: the lowest rank \"{rank}\" cannot have an upgrade condition")]
    LowestRankUpgrade {
        /// Path of the condition.
        path: String,
        /// The rank id.
        rank: String,
    },
    /// The lowest rank has a `retain` condition (nobody can fall below it).
    #[error("{path}: the lowest rank \"{rank}\" cannot have a retain condition")]
    LowestRankRetain {
        /// Path of the condition.
        path: String,
        /// The rank id.
        rank: String,
    },
    /// A version-2 field (SPEC §12) in a version-1 policy, or an order's
    /// `category` in a batch validated for one.
    #[error("{path}: `{field}` needs a version-2 policy (\"version\": 2)")]
    NeedsVersion2 {
        /// Path of the field.
        path: String,
        /// The field's name.
        field: String,
    },
    /// A rank id that the ladder does not define (policy or member).
    #[error("{path}: unknown rank \"{rank}\"")]
    UnknownRank {
        /// Path of the reference.
        path: String,
        /// The rank id referenced.
        rank: String,
    },
    /// Two rules with the same id.
    #[error("{path}: rule id \"{rule}\" is used twice")]
    DuplicateRule {
        /// Path of the second rule.
        path: String,
        /// The rule id.
        rule: String,
    },
    /// A malformed condition (no or several comparison operators, empty `all`/`any`,
    /// parameters the metric does not take, a missing required parameter).
    #[error("{path}: {detail}")]
    InvalidCondition {
        /// Path of the condition.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// A malformed rule (no rates, zero generations, a pool weighted by a metric that needs parameters).
    #[error("{path}: {detail}")]
    InvalidRule {
        /// Path of the rule field.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// An empty id string.
    #[error("{path}: id must not be empty")]
    EmptyId {
        /// Path of the id.
        path: String,
    },
    /// Two members with the same id.
    #[error("{path}: member \"{member}\" is listed twice (first at members[{first}])")]
    DuplicateMember {
        /// Path of the second record.
        path: String,
        /// The member id.
        member: String,
        /// Index of the first record.
        first: usize,
    },
    /// A sponsor that is not a member.
    #[error("{path}: member \"{member}\" names unknown sponsor \"{sponsor}\"")]
    UnknownSponsor {
        /// Path of the sponsor field.
        path: String,
        /// The member id.
        member: String,
        /// The sponsor named.
        sponsor: String,
    },
    /// A member that sponsors itself.
    #[error("{path}: member \"{member}\" names itself as sponsor")]
    SelfSponsor {
        /// Path of the sponsor field.
        path: String,
        /// The member id.
        member: String,
    },
    /// Sponsor edges that form a cycle.
    #[error("{path}: sponsor cycle {}", cycle_text(.cycle))]
    SponsorCycle {
        /// Path of the sponsor field of the first member on the cycle.
        path: String,
        /// Every member on the cycle, starting at the smallest id, in sponsor direction.
        cycle: Vec<String>,
    },
    /// Two groups with the same id.
    #[error("{path}: group \"{group}\" is listed twice")]
    DuplicateGroup {
        /// Path of the second record.
        path: String,
        /// The group id.
        group: String,
    },
    /// A group owner that is not a member.
    #[error("{path}: group \"{group}\" names unknown owner \"{owner}\"")]
    UnknownOwner {
        /// Path of the owner field.
        path: String,
        /// The group id.
        group: String,
        /// The owner named.
        owner: String,
    },
    /// A negative group size.
    #[error("{path}: group \"{group}\" has negative size {size}")]
    NegativeSize {
        /// Path of the size field.
        path: String,
        /// The group id.
        group: String,
        /// The size found.
        size: i64,
    },
    /// Two events with the same id.
    #[error("{path}: event id \"{event}\" is used twice (first at events[{first}])")]
    DuplicateEvent {
        /// Path of the second event's id.
        path: String,
        /// The event id.
        event: String,
        /// Index of the first event.
        first: usize,
    },
    /// A seller that is not a member.
    #[error("{path}: order \"{order}\" names unknown seller \"{seller}\"")]
    UnknownSeller {
        /// Path of the seller field.
        path: String,
        /// The order id.
        order: String,
        /// The seller named.
        seller: String,
    },
    /// An order with no seller whose buyer is not a member either.
    #[error("{path}: order \"{order}\" has no seller and its buyer {buyer} is not a member")]
    NoSeller {
        /// Path of the order.
        path: String,
        /// The order id.
        order: String,
        /// The buyer, quoted, or `(none)`.
        buyer: String,
    },
    /// An amount that is zero or negative.
    #[error("{path}: {record} \"{id}\" has amount {amount}; amounts must be greater than 0")]
    NonPositiveAmount {
        /// Path of the amount.
        path: String,
        /// `order` or `refund`.
        record: String,
        /// The event id.
        id: String,
        /// The amount as written.
        amount: String,
    },
    /// An amount with more decimals than the policy's rounding scale.
    #[error("{path}: {record} \"{id}\" has amount {amount} with more than {scale} decimals")]
    TooManyDecimals {
        /// Path of the amount.
        path: String,
        /// `order` or `refund`.
        record: String,
        /// The event id.
        id: String,
        /// The amount as written.
        amount: String,
        /// The policy scale.
        scale: u32,
    },
    /// An `at` that is not a calendar-valid RFC 3339 date-time.
    #[error("{path}: event \"{event}\" has invalid time \"{at}\": {detail}")]
    InvalidTimestamp {
        /// Path of the `at` field.
        path: String,
        /// The event id.
        event: String,
        /// The value as written.
        at: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A refund of an order the batch does not hold.
    #[error("{path}: refund \"{refund}\" is of unknown order \"{order}\"")]
    UnknownOrder {
        /// Path of the `refund_of` field.
        path: String,
        /// The refund id.
        refund: String,
        /// The order named.
        order: String,
    },
    /// A refund listed before its order.
    #[error(
        "{path}: refund \"{refund}\" comes before its order \"{order}\" (events[{order_index}])"
    )]
    RefundBeforeOrder {
        /// Path of the `refund_of` field.
        path: String,
        /// The refund id.
        refund: String,
        /// The order named.
        order: String,
        /// Where the order is.
        order_index: usize,
    },
    /// Refunds of an order that add up to more than the order.
    #[error("{path}: refund \"{refund}\" brings refunds of order \"{order}\" to {refunded}, more than its amount {amount}")]
    OverRefund {
        /// Path of the refund's amount.
        path: String,
        /// The refund id.
        refund: String,
        /// The order id.
        order: String,
        /// Refunds of the order including this one.
        refunded: String,
        /// The order's amount.
        amount: String,
    },
    /// A bound on input size or policy complexity was exceeded.
    #[error("{path}: {detail}")]
    LimitExceeded {
        /// Path of the offending value.
        path: String,
        /// Which limit, and its value.
        detail: String,
    },
    /// Exact decimal arithmetic overflowed.
    #[error("{path}: arithmetic overflow: {detail}")]
    Overflow {
        /// Path of the record whose computation overflowed.
        path: String,
        /// Which computation.
        detail: String,
    },
    /// A line sink (writer or callback of a streaming settlement) failed.
    #[error("{path}: the line sink failed: {detail}")]
    SinkError {
        /// Always `lines`.
        path: String,
        /// What the sink said.
        detail: String,
    },
    /// A bug in fenrun: an invariant of its own broke (never the input's
    /// fault). Bindings also report a panic caught at their boundary as this.
    #[error("{path}: internal error (a bug in fenrun; please report it with the input): {detail}")]
    Internal {
        /// Where it was noticed.
        path: String,
        /// Which invariant.
        detail: String,
    },
    /// An event id applied before, now with other content (§14).
    #[error("{path}: event \"{event}\" was applied before (events[{first}]) with other content")]
    EventConflict {
        /// Path of the second event's id.
        path: String,
        /// The event id.
        event: String,
        /// Where the first event is in the stream.
        first: usize,
    },
    /// A member event updating an existing member's rank (ranks move only
    /// by evaluation, §14).
    #[error("{path}: member \"{member}\" exists: an update cannot set its rank (ranks move only by evaluation)")]
    RankUpdate {
        /// Path of the `rank` field.
        path: String,
        /// The member.
        member: String,
    },
    /// An event naming an order that is not an earlier order of the stream
    /// (a `received` event's order).
    #[error("{path}: event \"{event}\" names \"{order}\", which is not an earlier order")]
    NotAnOrder {
        /// Path of the field naming the order.
        path: String,
        /// The event's id.
        event: String,
        /// The id it names.
        order: String,
    },
    /// An order or refund without `at` under a policy with a hold period
    /// (§14.1: the hold is counted from it).
    #[error("{path}: {record} \"{event}\" has no `at`, which the policy's hold period needs")]
    MissingTime {
        /// Path of the missing `at`.
        path: String,
        /// `order` or `refund`.
        record: &'static str,
        /// The event's id.
        event: String,
    },
    /// A second `received` event for one order (§14.1: at most one).
    #[error("{path}: order \"{order}\" was received already (events[{first}])")]
    ReceivedTwice {
        /// Path of the `received` field.
        path: String,
        /// The order.
        order: String,
        /// Where the first `received` event is.
        first: usize,
    },
    /// Bytes that are not a ledger snapshot this fenrun reads: corrupt,
    /// truncated, or of another snapshot version.
    #[error("{path}: not a ledger snapshot fenrun can read: {detail}")]
    InvalidSnapshot {
        /// Where in the snapshot (`snapshot`, `snapshot line 3`).
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// A snapshot of another policy than the one it is restored with.
    #[error("{path}: the snapshot is of policy {found}, not of this policy ({expected})")]
    ForeignSnapshot {
        /// Always `snapshot`.
        path: String,
        /// The policy's fingerprint.
        expected: String,
        /// The snapshot's.
        found: String,
    },
    /// Sums or a part of a settlement spread over machines (§10.6) that
    /// cannot be read or merged here: corrupt or truncated bytes, another
    /// format version, or made with another policy or another member table.
    #[error("{path}: not a part of this settlement: {detail}")]
    InvalidPart {
        /// `sums` or `part`, with the line when one is at fault.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// A policy that cannot be settled in parts: `immediate` rank timing is
    /// sequential (§13), each order reading the ranks the orders before it made.
    #[error("{path}: {detail}")]
    NotSplittable {
        /// Always `policy.rank_timing`.
        path: String,
        /// Why, and what to do instead.
        detail: String,
    },
    /// `explain` was asked about an order that the settlement does not hold.
    #[error("{path}: no order \"{order}\" in this settlement")]
    OrderNotSettled {
        /// Always `order`.
        path: String,
        /// The order id asked for.
        order: String,
    },
}

/// Members shown in a cycle message; the error's `cycle` field always holds all of them.
const CYCLE_SHOWN: usize = 20;

fn cycle_text(cycle: &[String]) -> String {
    let mut parts: Vec<String> = cycle
        .iter()
        .take(CYCLE_SHOWN)
        .map(|m| format!("\"{m}\""))
        .collect();
    if cycle.len() > CYCLE_SHOWN {
        parts.push(format!("… ({} members in all)", cycle.len()));
    }
    if let Some(first) = cycle.first() {
        parts.push(format!("\"{first}\""));
    }
    parts.join(" → ")
}

impl Error {
    /// The stable machine code of this error (`"sponsor_cycle"`, `"over_refund"`, …).
    ///
    /// ```
    /// let err = fenrun::check_policy_json(r#"{"version": 3, "ranks": [{"id": "member"}]}"#).unwrap_err();
    /// assert_eq!(err.code(), "unsupported_version");
    /// assert_eq!(err.path(), "version");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidJson { .. } => "invalid_json",
            Error::InvalidTable { .. } => "invalid_table",
            Error::UnknownField { .. } => "unknown_field",
            Error::MissingField { .. } => "missing_field",
            Error::InvalidType { .. } => "invalid_type",
            Error::FloatNumber { .. } => "float_number",
            Error::NumberMoney { .. } => "number_money",
            Error::InvalidDecimal { .. } => "invalid_decimal",
            Error::InvalidValue { .. } => "invalid_value",
            Error::UnsupportedVersion { .. } => "unsupported_version",
            Error::InvalidScale { .. } => "invalid_scale",
            Error::RateOutOfRange { .. } => "rate_out_of_range",
            Error::NoRanks { .. } => "no_ranks",
            Error::DuplicateRank { .. } => "duplicate_rank",
            Error::DecreasingRate { .. } => "decreasing_rate",
            Error::LowestRankUpgrade { .. } => "lowest_rank_upgrade",
            Error::LowestRankRetain { .. } => "lowest_rank_retain",
            Error::NeedsVersion2 { .. } => "needs_version_2",
            Error::UnknownRank { .. } => "unknown_rank",
            Error::DuplicateRule { .. } => "duplicate_rule",
            Error::InvalidCondition { .. } => "invalid_condition",
            Error::InvalidRule { .. } => "invalid_rule",
            Error::EmptyId { .. } => "empty_id",
            Error::DuplicateMember { .. } => "duplicate_member",
            Error::UnknownSponsor { .. } => "unknown_sponsor",
            Error::SelfSponsor { .. } => "self_sponsor",
            Error::SponsorCycle { .. } => "sponsor_cycle",
            Error::DuplicateGroup { .. } => "duplicate_group",
            Error::UnknownOwner { .. } => "unknown_owner",
            Error::NegativeSize { .. } => "negative_size",
            Error::DuplicateEvent { .. } => "duplicate_event",
            Error::UnknownSeller { .. } => "unknown_seller",
            Error::NoSeller { .. } => "no_seller",
            Error::NonPositiveAmount { .. } => "non_positive_amount",
            Error::TooManyDecimals { .. } => "too_many_decimals",
            Error::InvalidTimestamp { .. } => "invalid_timestamp",
            Error::UnknownOrder { .. } => "unknown_order",
            Error::RefundBeforeOrder { .. } => "refund_before_order",
            Error::OverRefund { .. } => "over_refund",
            Error::LimitExceeded { .. } => "limit_exceeded",
            Error::Overflow { .. } => "arithmetic_overflow",
            Error::OrderNotSettled { .. } => "order_not_settled",
            Error::EventConflict { .. } => "event_conflict",
            Error::RankUpdate { .. } => "rank_update",
            Error::NotAnOrder { .. } => "unknown_order",
            Error::ReceivedTwice { .. } => "received_twice",
            Error::MissingTime { .. } => "missing_time",
            Error::InvalidSnapshot { .. } => "invalid_snapshot",
            Error::ForeignSnapshot { .. } => "foreign_snapshot",
            Error::InvalidPart { .. } => "invalid_part",
            Error::NotSplittable { .. } => "not_splittable",
            Error::SinkError { .. } => "sink_error",
            Error::Internal { .. } => "internal",
        }
    }

    /// The family of this error, for bindings that map families to exception classes.
    pub fn family(&self) -> ErrorFamily {
        match self {
            Error::InvalidJson { .. }
            | Error::InvalidTable { .. }
            | Error::UnknownField { .. }
            | Error::MissingField { .. }
            | Error::InvalidType { .. }
            | Error::FloatNumber { .. }
            | Error::NumberMoney { .. }
            | Error::InvalidDecimal { .. }
            | Error::InvalidValue { .. }
            | Error::InvalidSnapshot { .. }
            | Error::ForeignSnapshot { .. }
            | Error::InvalidPart { .. } => ErrorFamily::Format,
            Error::UnsupportedVersion { .. }
            | Error::InvalidScale { .. }
            | Error::RateOutOfRange { .. }
            | Error::NoRanks { .. }
            | Error::DuplicateRank { .. }
            | Error::DecreasingRate { .. }
            | Error::LowestRankUpgrade { .. }
            | Error::LowestRankRetain { .. }
            | Error::NeedsVersion2 { .. }
            | Error::UnknownRank { .. }
            | Error::DuplicateRule { .. }
            | Error::InvalidCondition { .. }
            | Error::InvalidRule { .. }
            | Error::NotSplittable { .. } => ErrorFamily::Policy,
            Error::LimitExceeded { .. } => ErrorFamily::Limit,
            Error::Overflow { .. } => ErrorFamily::Arithmetic,
            Error::SinkError { .. } => ErrorFamily::Output,
            Error::Internal { .. } => ErrorFamily::Internal,
            _ => ErrorFamily::Input,
        }
    }

    /// The JSON path of the offending value (`members[3].sponsor`).
    pub fn path(&self) -> &str {
        each_path!(self, p => p)
    }

    /// The same error with its path rewritten by `f`: a reader of other formats
    /// (a Parquet or CSV table) names its own records (`orders[3]` for `events[3]`).
    /// The message follows, since it is formatted from the path.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}]}"#).unwrap();
    /// let err = fenrun::Batch::from_json(r#"{"members": [{"id": "m1", "sponsor": "m9"}], "events": []}"#, &policy)
    ///     .unwrap_err()
    ///     .map_path(|p| p.replacen("members", "members.parquet row", 1));
    /// assert_eq!(err.path(), "members.parquet row[0].sponsor");
    /// ```
    #[must_use]
    pub fn map_path(mut self, f: impl FnOnce(&str) -> String) -> Error {
        each_path!(&mut self, p => *p = f(p));
        self
    }

    /// The same error naming the document it is about, for a JSON syntax
    /// error: its position alone (`line 1 column 25`) does not say whether the
    /// policy or the batch is broken. The CLI names the file, a binding its
    /// argument (`policy`, `batch`). Other errors already name their record.
    ///
    /// ```
    /// let err = fenrun::Policy::from_json(r#"{"version": 1, "ranks": [}"#)
    ///     .unwrap_err()
    ///     .in_document("policy.json");
    /// assert_eq!((err.code(), err.path()), ("invalid_json", "policy.json: line 1 column 26"));
    /// assert!(err.to_string().starts_with("policy.json: line 1 column 26: invalid JSON: "));
    /// ```
    #[must_use]
    pub fn in_document(self, name: &str) -> Error {
        match self {
            Error::InvalidJson { path, detail } => Error::InvalidJson {
                path: format!("{name}: {path}"),
                detail,
            },
            other => other,
        }
    }
    /// The error a binding reports for a panic of the core it caught (or, in
    /// WebAssembly, a trap): an [`Error::Internal`] whose detail is `what`.
    ///
    /// ```
    /// let e = fenrun::Error::panic("index out of bounds");
    /// assert_eq!((e.code(), e.family().name(), e.path()), ("internal", "internal", "$"));
    /// ```
    pub fn panic(what: &str) -> Error {
        Error::Internal {
            path: "$".to_owned(),
            detail: format!("the core stopped ({what})"),
        }
    }

    /// A broken invariant of the core: a table without the entry its index
    /// promised. Reported as `internal` (a bug), never turned into a number.
    #[cold]
    pub(crate) fn missing(path: &str, what: &str) -> Error {
        Error::Internal {
            path: path.to_owned(),
            detail: format!("no {what} where the tables promise one"),
        }
    }

    /// Every code this library can return, for bindings to check their mapping against.
    pub const CODES: &'static [&'static str] = &[
        "invalid_json",
        "invalid_table",
        "unknown_field",
        "missing_field",
        "invalid_type",
        "float_number",
        "invalid_decimal",
        "invalid_value",
        "unsupported_version",
        "invalid_scale",
        "rate_out_of_range",
        "no_ranks",
        "duplicate_rank",
        "decreasing_rate",
        "lowest_rank_upgrade",
        "lowest_rank_retain",
        "needs_version_2",
        "unknown_rank",
        "duplicate_rule",
        "invalid_condition",
        "invalid_rule",
        "empty_id",
        "duplicate_member",
        "unknown_sponsor",
        "self_sponsor",
        "sponsor_cycle",
        "duplicate_group",
        "unknown_owner",
        "negative_size",
        "duplicate_event",
        "unknown_seller",
        "no_seller",
        "non_positive_amount",
        "too_many_decimals",
        "invalid_timestamp",
        "unknown_order",
        "refund_before_order",
        "over_refund",
        "limit_exceeded",
        "arithmetic_overflow",
        "order_not_settled",
        "event_conflict",
        "rank_update",
        "received_twice",
        "missing_time",
        "invalid_snapshot",
        "foreign_snapshot",
        "invalid_part",
        "not_splittable",
        "sink_error",
        "number_money",
        "internal",
    ];
}

/// The error as data: `{"code", "family", "path", "message"}`, for the JSON boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    /// Stable machine code.
    pub code: &'static str,
    /// Family, for exception classes.
    pub family: ErrorFamily,
    /// JSON path of the offending value.
    pub path: String,
    /// Human message (names the record and field).
    pub message: String,
}

impl From<&Error> for ErrorReport {
    fn from(e: &Error) -> Self {
        ErrorReport {
            code: e.code(),
            family: e.family(),
            path: e.path().to_owned(),
            message: e.to_string(),
        }
    }
}

/// Result with fenrun's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An entry the core's own tables promise ([`Error::missing`] if absent):
/// the one way money and rank code reads an entry whose absence is a bug.
pub(crate) trait Must<T> {
    /// The entry, or [`Missing`] at `at` naming `what`.
    fn must(self, at: impl Into<Where>, what: &'static str) -> Result<T, Missing>;
}

impl<T> Must<T> for Option<T> {
    #[inline(always)]
    fn must(self, at: impl Into<Where>, what: &'static str) -> Result<T, Missing> {
        match self {
            Some(v) => Ok(v),
            None => Err(Missing {
                at: at.into(),
                what,
            }),
        }
    }
}

/// A missing entry (a broken invariant), small and `Copy` so that hot
/// loops return it in registers; `?` turns it into [`Error::missing`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Missing {
    at: Where,
    what: &'static str,
}

impl From<Missing> for Error {
    #[cold]
    fn from(m: Missing) -> Error {
        Error::missing(&m.at.to_string(), m.what)
    }
}

/// Where a missing entry was looked for, formatted only when shown.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Where {
    /// A whole table: `events`.
    Table(&'static str),
    /// A record of a table: `members[12]`.
    Record(&'static str, usize),
}

impl std::fmt::Display for Where {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Where::Table(t) => f.write_str(t),
            Where::Record(t, i) => write!(f, "{t}[{i}]"),
        }
    }
}

impl From<&'static str> for Where {
    fn from(table: &'static str) -> Where {
        Where::Table(table)
    }
}

impl From<MemberAt> for Where {
    fn from(m: MemberAt) -> Where {
        Where::Record("members", m.0 as usize)
    }
}

impl From<EventAt> for Where {
    fn from(e: EventAt) -> Where {
        Where::Record("events", e.0)
    }
}

impl From<At> for Where {
    fn from(a: At) -> Where {
        Where::Record(a.0, a.1)
    }
}

/// Member index `m`, as the path `members[m]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemberAt(pub u32);

/// Record `i` of table `t`, as the path `t[i]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At(pub &'static str, pub usize);

/// Event index `i`, as the path `events[i]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventAt(pub usize);
