//! The data-only boundary: JSON text in, JSON text out. Bindings call these
//! in a few lines and map [`Error::code`] to their own error classes.

use crate::batch::Batch;
use crate::compare::Comparison;
use crate::engine::Engine;
use crate::error::{Error, ErrorReport, Result};
use crate::lint::{lint, Profile};
use crate::policy::Policy;
use crate::stats::Stats;

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

/// Compare policy A and policy B on one batch ([`compare`]): the comparison
/// document as canonical JSON. Every error of one policy's side names it in
/// its path (`policy_b: rules[0].rate`); the batch is read once and checked
/// against each policy.
///
/// ```
/// let a = r#"{"version": 1, "ranks": [{"id": "member", "rate": "0.10"}], "rules": [{"id": "d", "type": "differential"}]}"#;
/// let b = r#"{"version": 1, "ranks": [{"id": "member", "rate": "0.12"}], "rules": [{"id": "d", "type": "differential"}]}"#;
/// let batch = r#"{"members": [{"id": "m1"}], "events": [{"id": "o1", "seller": "m1", "amount": "50.00"}]}"#;
/// let doc: serde_json::Value = serde_json::from_str(&fenrun::compare_json(a, b, batch)?).unwrap();
/// assert_eq!(doc["members"][0]["delta"], "1.00");
/// let err = fenrun::compare_json(a, "{", batch).unwrap_err();
/// assert_eq!(err.path(), "policy_b: line 1 column 1");
/// # Ok::<(), fenrun::Error>(())
/// ```
pub fn compare_json(policy_a: &str, policy_b: &str, batch: &str) -> Result<String> {
    let value = crate::input::value_from_json(batch).map_err(|e| e.in_document("batch"))?;
    let side = |text: &str, name: &str| -> Result<(Engine, crate::Settlement)> {
        let named = |e: Error| e.map_path(|p| format!("{name}: {p}"));
        let policy = Policy::from_json(text).map_err(named)?;
        let batch = Batch::from_value(value.clone(), &policy)?;
        let engine = Engine::new(&policy, batch).map_err(named)?;
        let totals = crate::SettleOptions::default().lines(crate::Lines::TotalsOnly);
        let settled = engine.settle_with(totals).map_err(named)?;
        Ok((engine, settled))
    };
    let (a, settled_a) = side(policy_a, "policy_a")?;
    let (b, settled_b) = side(policy_b, "policy_b")?;
    Ok(compare(&a, &settled_a, &b, &settled_b)?.to_json())
}

/// Two settlements of one batch under two policies, side by side: each
/// member's rank and total under each with the change, each side's summary
/// and [`Stats`]. Each settlement must be its engine's; both engines must
/// hold the same members in the same order (one batch checked against each
/// policy), else `invalid_value`.
pub fn compare(
    a: &Engine,
    settled_a: &crate::Settlement,
    b: &Engine,
    settled_b: &crate::Settlement,
) -> Result<Comparison> {
    crate::compare::compare((a.state(), settled_a), (b.state(), settled_b))
}

/// Settle a batch and measure it ([`Engine::stats`]): `{"stats": {...}}`
/// as canonical JSON.
pub fn stats_json(policy: &str, batch: &str) -> Result<String> {
    let policy = check_policy_json(policy)?;
    let batch = check_batch_json(batch, &policy)?;
    let engine = Engine::new(&policy, batch)?;
    let settled = engine.settle()?;
    Ok(format!(
        "{{\"stats\":{}}}",
        engine.stats(&settled)?.to_json()
    ))
}

/// Lint a policy under the profile called `profile`, and with a batch its
/// settlement too: the [`Lint`](crate::Lint) document as canonical JSON.
///
/// ```
/// let policy = r#"{"version": 1, "ranks": [{"id": "member"}],
///   "rules": [{"id": "dist", "type": "levels", "rates": ["0.10", "0.05"]}]}"#;
/// let doc: serde_json::Value = serde_json::from_str(&fenrun::lint_json(policy, "cn-direct-selling", None)?).unwrap();
/// assert_eq!((doc["errors"].as_u64(), doc["findings"][0]["code"].as_str()), (Some(1), Some("team_compensation")));
/// # Ok::<(), fenrun::Error>(())
/// ```
pub fn lint_json(policy: &str, profile: &str, batch: Option<&str>) -> Result<String> {
    let profile = Profile::from_name(profile)?;
    let policy = check_policy_json(policy)?;
    let lint = match batch {
        None => lint(&policy, profile),
        Some(batch) => {
            let batch = check_batch_json(batch, &policy)?;
            let engine = Engine::new(&policy, batch)?;
            let settled = engine
                .settle_with(crate::SettleOptions::default().lines(crate::Lines::TotalsOnly))?;
            engine.lint(&settled, profile)?
        }
    };
    Ok(lint.to_json())
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

    /// The settlement as canonical §9 JSON with `stats` (of the same
    /// settlement, [`Engine::stats`]) added to its summary, as `fenrun settle
    /// --stats` writes it.
    pub fn to_json_with_stats(&self, stats: &Stats) -> String {
        crate::output::settlement_json_with(self, Some(stats))
    }

    /// [`Settlement::to_json_with_stats`](crate::Settlement::to_json_with_stats) written to `w`.
    pub fn write_json_with_stats<W: std::io::Write>(
        &self,
        stats: &Stats,
        w: W,
    ) -> std::io::Result<()> {
        crate::output::write_settlement_json_with(self, Some(stats), w)
    }

    /// Write the canonical §9 JSON to `w` (the same bytes as [`Settlement::to_json`](crate::Settlement::to_json)),
    /// without holding the document in memory.
    pub fn write_json<W: std::io::Write>(&self, w: W) -> std::io::Result<()> {
        crate::output::write_settlement_json(self, w)
    }
}
