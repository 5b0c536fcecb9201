//! Shared set-up of the criterion benches: generated batches and the policies measured.

use fenrun::{Batch, Policy};

/// The full reference policy (`examples/reference-policy.json`).
pub const REFERENCE_POLICY: &str = include_str!("../../examples/reference-policy.json");

/// The reference ladder with a single rule, to time each order rule alone.
pub fn single_rule_policy(rule: &str) -> String {
    let ladder = r#"[{"id":"member"},
        {"id":"group_owner","rate":"0.10","upgrade":{"metric":"largest_group","gte":100}},
        {"id":"team_leader","rate":"0.15","upgrade":{"all":[{"metric":"groups","min_size":100,"gte":5},{"metric":"team_sales","gte":"50000"}]}},
        {"id":"partner","rate":"0.20","upgrade":{"all":[{"metric":"legs","min_rank":"team_leader","gte":2},{"metric":"team_sales","gte":"300000"}]}}]"#;
    format!(r#"{{"version":1,"evaluate_ranks":true,"ranks":{ladder},"rules":[{rule}]}}"#)
}

/// The rules timed alone.
pub const RULES: [(&str, &str); 4] = [
    (
        "levels",
        r#"{"id":"dist","type":"levels","rates":["0.03","0.02","0.01"],"min_rank":"group_owner","compress":true}"#,
    ),
    ("differential", r#"{"id":"spread","type":"differential"}"#),
    (
        "peer",
        r#"{"id":"peer","type":"peer","rate":"0.01","generations":1,"match":"same","min_rank":"group_owner"}"#,
    ),
    (
        "pool",
        r#"{"id":"dividend","type":"pool","rate":"0.02","min_rank":"partner","split":"equal"}"#,
    ),
];

/// A generated batch of `members` members and `orders` orders, as JSON text.
pub fn batch_json(members: usize, orders: usize) -> String {
    fenrun_testkit::gen::generate(members, orders, 42).to_json()
}

/// A single sponsor chain of `n` members, each selling `orders_per_member` orders of 100.00.
pub fn chain_json(n: usize, orders_per_member: usize) -> String {
    use std::fmt::Write;
    let mut s = String::from(r#"{"members":[{"id":"m0","rank":"partner"}"#);
    for i in 1..n {
        let rank = match i % 7 {
            0 => r#","rank":"group_owner""#,
            3 => r#","rank":"team_leader""#,
            _ => "",
        };
        let _ = write!(s, r#",{{"id":"m{i}","sponsor":"m{}"{rank}}}"#, i - 1);
    }
    s.push_str(r#"],"events":["#);
    for k in 0..n * orders_per_member {
        if k > 0 {
            s.push(',');
        }
        // Sellers in turn down the chain, as orders of a month interleave.
        let i = k % n;
        let _ = write!(s, r#"{{"id":"o{k}","seller":"m{i}","amount":"100.00"}}"#);
    }
    s.push_str("]}");
    s
}

/// Parse and validate a policy and batch (panics are fine in benches: inputs are generated).
pub fn load(policy: &str, batch: &str) -> (Policy, Batch) {
    let p = Policy::from_json(policy).unwrap_or_else(|e| panic_on(&e));
    let b = Batch::from_json(batch, &p).unwrap_or_else(|e| panic_on(&e));
    (p, b)
}

#[allow(clippy::panic)] // generated bench inputs are valid; anything else is a bench bug
fn panic_on(e: &fenrun::Error) -> ! {
    panic!("bench input refused: {e}")
}

/// Events a service takes between two catch-ups of a ledger
/// (`Ledger::take_json`, `Ledger::catch_up`), in the ledger benches.
pub const CHUNK: usize = 1000;

/// The generated period of the ledger benches: the batch document, the same
/// without its events (what a ledger opens with), and each event as a JSON
/// line.
pub struct LedgerData {
    /// The batch document, events included.
    pub batch: String,
    /// The members and groups only.
    pub start: String,
    /// Each event's JSON, in order.
    pub lines: Vec<String>,
}

/// [`LedgerData`] of a generated batch of `members` members and `orders` orders.
pub fn ledger_data(members: usize, orders: usize) -> Result<LedgerData, serde_json::Error> {
    let batch = batch_json(members, orders);
    let mut doc: serde_json::Value = serde_json::from_str(&batch)?;
    let events = doc
        .as_object_mut()
        .and_then(|doc| doc.remove("events"))
        .unwrap_or_default();
    let lines = match events {
        serde_json::Value::Array(events) => events
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    Ok(LedgerData {
        batch,
        start: doc.to_string(),
        lines,
    })
}

/// The policy at `path` (`-` or none: the reference policy) as given, and
/// the same in `immediate` rank timing when `timing` is `immediate`.
pub fn ledger_policy(
    path: Option<&str>,
    timing: Option<&str>,
) -> Result<(Policy, Policy), Box<dyn std::error::Error>> {
    let text = match path {
        Some(path) if path != "-" => std::fs::read_to_string(path)?,
        _ => REFERENCE_POLICY.to_owned(),
    };
    let base = Policy::from_json(&text)?;
    if timing != Some("immediate") {
        return Ok((base.clone(), base));
    }
    let mut doc: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)?;
    doc.insert("version".into(), serde_json::json!(2));
    doc.insert("rank_timing".into(), serde_json::json!("immediate"));
    Ok((base, Policy::from_value(serde_json::Value::Object(doc))?))
}

/// A bench binary's `main`: `run` on the command line's arguments, its
/// error printed and the exit code failed.
pub fn run_main(
    run: impl FnOnce(&[String]) -> Result<(), Box<dyn std::error::Error>>,
) -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
