//! The data-only boundary: JSON text in, JSON text out. Bindings call these
//! in a few lines and map [`Error::code`] to their own error classes.

use crate::batch::Batch;
use crate::engine::Engine;
use crate::error::{Error, ErrorReport, Result};
use crate::policy::Policy;

/// Validate a policy given as JSON text. A syntax error names the document
/// `policy` ([`Error::in_document`]), as every function here does.
///
/// ```
/// let err = fenrun::check_policy_json("{not json").unwrap_err();
/// assert_eq!((err.code(), err.path()), ("invalid_json", "policy: line 1 column 2"));
/// ```
pub fn check_policy_json(policy: &str) -> Result<Policy> {
    Policy::from_json(policy).map_err(|e| e.in_document("policy"))
}

/// Validate a batch given as JSON text against `policy`. A syntax error names
/// the document `batch`.
pub fn check_batch_json(batch: &str, policy: &Policy) -> Result<Batch> {
    Batch::from_json(batch, policy).map_err(|e| e.in_document("batch"))
}

/// [`check_batch_json`] for a batch a binding serialised from an object of
/// its language whose numbers are binary floats (a JavaScript object): money
/// given as a number is refused ([`crate::input::require_string_money`]).
///
/// ```
/// let policy = fenrun::check_policy_json(r#"{"version": 1, "ranks": [{"id": "member"}]}"#)?;
/// let batch = r#"{"members": [{"id": "m1"}], "events": [{"id": "o1", "seller": "m1", "amount": 12}]}"#;
/// assert!(fenrun::check_batch_json(batch, &policy).is_ok());
/// let err = fenrun::check_object_batch_json(batch, &policy).unwrap_err();
/// assert_eq!((err.code(), err.path()), ("number_money", "events[0].amount"));
/// # Ok::<(), fenrun::Error>(())
/// ```
pub fn check_object_batch_json(batch: &str, policy: &Policy) -> Result<Batch> {
    let value = crate::input::value_from_json(batch).map_err(|e| e.in_document("batch"))?;
    crate::input::require_string_money(&value)?;
    Batch::from_value(value, policy)
}

/// Evaluate ranks: `{"rank_changes": [...]}` as canonical JSON.
///
/// ```
/// let policy = r#"{"version": 1, "evaluate_ranks": true, "ranks": [
///   {"id": "member"},
///   {"id": "group_owner", "rate": "0.10", "upgrade": {"metric": "largest_group", "gte": 100}}]}"#;
/// let batch = r#"{"members": [{"id": "m1"}], "groups": [{"id": "g1", "owner": "m1", "size": 120}], "events": []}"#;
/// assert_eq!(
///     fenrun::evaluate_ranks_json(policy, batch).unwrap(),
///     r#"{"rank_changes":[{"member":"m1","from":"member","to":"group_owner","because":[{"metric":"largest_group","params":{},"value":"120","op":"gte","threshold":"100"}]}]}"#
/// );
/// ```
pub fn evaluate_ranks_json(policy: &str, batch: &str) -> Result<String> {
    let policy = check_policy_json(policy)?;
    let batch = check_batch_json(batch, &policy)?;
    let engine = Engine::new(&policy, batch)?;
    Ok(engine.rank_changes_json())
}

/// Settle a batch: the §9 document as canonical JSON.
pub fn settle_json(policy: &str, batch: &str) -> Result<String> {
    let policy = check_policy_json(policy)?;
    let batch = check_batch_json(batch, &policy)?;
    Ok(settle(&policy, batch)?.to_json())
}

/// Settle a validated batch, keeping every line ([`Engine::settle`]).
pub fn settle(policy: &Policy, batch: Batch) -> Result<crate::Settlement> {
    Engine::new(policy, batch)?.settle()
}

/// Explain one order's lines in words.
pub fn explain_json(policy: &str, batch: &str, order: &str) -> Result<Vec<String>> {
    let policy = check_policy_json(policy)?;
    let batch = check_batch_json(batch, &policy)?;
    Engine::new(&policy, batch)?.explain(order)
}

/// An error as the JSON object `{"code","family","path","message"}`.
pub fn error_json(err: &Error) -> String {
    serde_json::to_string(&ErrorReport::from(err)).unwrap_or_default()
}

impl crate::Settlement {
    /// The settlement as canonical §9 JSON.
    pub fn to_json(&self) -> String {
        crate::output::settlement_json(self)
    }

    /// The §9 `summary` object alone as canonical JSON: `net_sales`,
    /// `total_paid`, `payout_ratio` (null without sales), `breakage` by rule
    /// and `cap_cut`, every amount a string.
    ///
    /// ```
    /// let policy = fenrun::Policy::from_json(r#"{"version": 1,
    ///   "ranks": [{"id": "member", "rate": "0.10"}], "rules": [{"id": "d", "type": "differential"}]}"#)?;
    /// let batch = fenrun::Batch::from_json(r#"{"members": [{"id": "m1"}],
    ///   "events": [{"id": "o1", "seller": "m1", "amount": "10.00"}]}"#, &policy)?;
    /// assert_eq!(
    ///     fenrun::settle(&policy, batch)?.summary_json(),
    ///     r#"{"net_sales":"10.00","total_paid":"1.00","payout_ratio":"0.1","breakage":{"d":"0.00"},"cap_cut":"0.00"}"#
    /// );
    /// # Ok::<(), fenrun::Error>(())
    /// ```
    pub fn summary_json(&self) -> String {
        crate::output::summary_json(self)
    }

    /// Write the canonical §9 JSON to `w` (the same bytes as [`Settlement::to_json`](crate::Settlement::to_json)),
    /// without holding the document in memory.
    pub fn write_json<W: std::io::Write>(&self, w: W) -> std::io::Result<()> {
        crate::output::write_settlement_json(self, w)
    }
}
