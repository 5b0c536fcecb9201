//! A single sponsor chain 1,000,000 members deep loads, evaluates and settles
//! without recursion (no stack overflow) and with per-order work bounded by
//! what the rules can pay, in both rank timings. Run in release by `.ci/run`:
//! `cargo test --release -p fenrun --test deep_chain -- --ignored`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

use std::fmt::Write;

fn chain(n: usize) -> String {
    let mut s = String::with_capacity(n * 40);
    s.push_str(r#"{"members":[{"id":"m0","rank":"partner"}"#);
    for i in 1..n {
        let _ = write!(s, r#",{{"id":"m{i}","sponsor":"m{}"}}"#, i - 1);
    }
    let _ = write!(
        s,
        r#"],"events":[{{"id":"o1","seller":"m{}","buyer":"c1","amount":"100.00"}}]}}"#,
        n - 1
    );
    s
}

fn run(n: usize) {
    // group_owner needs team_size >= n/2: m0..m(n/2 - 1) qualify (m0 is partner already).
    let policy = format!(
        r#"{{"version":1,"evaluate_ranks":true,
        "ranks":[{{"id":"member"}},
                 {{"id":"group_owner","rate":"0.10","upgrade":{{"metric":"team_size","gte":{half}}}}},
                 {{"id":"partner","rate":"0.20"}}],
        "rules":[{{"id":"spread","type":"differential"}},
                 {{"id":"peer","type":"peer","rate":"0.01","generations":3,"match":"same_or_higher"}},
                 {{"id":"dist","type":"levels","rates":["0","0.01"],"compress":true,"min_rank":"group_owner"}}]}}"#,
        half = n / 2
    );
    let out = fenrun::settle_json(&policy, &chain(n)).expect("deep chain settles");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        doc["rank_changes"].as_array().expect("list").len(),
        n / 2 - 1
    );
    let top = n / 2 - 1;
    let lines: Vec<(String, String, u64, String)> = doc["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["rule"].as_str().unwrap_or_default().to_owned(),
                l["beneficiary"].as_str().unwrap_or_default().to_owned(),
                l["level"].as_u64().unwrap_or_default(),
                l["amount"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    // The seller m(n-1) is a member: the spread first reaches group_owner m(top), then partner m0.
    let far = n as u64 - 1;
    let near = (n - 1 - top) as u64;
    let want = vec![
        (
            "spread".to_owned(),
            format!("m{top}"),
            near,
            "10.00".to_owned(),
        ),
        (
            "spread".to_owned(),
            "m0".to_owned(),
            far,
            "10.00".to_owned(),
        ),
        // peer: seller rank member, same_or_higher: the three nearest members above pay 0.01 each.
        (
            "peer".to_owned(),
            format!("m{}", n - 2),
            1,
            "1.00".to_owned(),
        ),
        (
            "peer".to_owned(),
            format!("m{}", n - 3),
            2,
            "1.00".to_owned(),
        ),
        (
            "peer".to_owned(),
            format!("m{}", n - 4),
            3,
            "1.00".to_owned(),
        ),
        // levels with compress: the first group_owner above the seller is m(top), level 1.
        ("dist".to_owned(), format!("m{top}"), 1, "1.00".to_owned()),
    ];
    assert_eq!(lines, want);
}

#[test]
fn chain_of_ten_thousand() {
    run(10_000);
}

#[test]
#[ignore = "1,000,000 members: run in release by .ci/run"]
fn chain_of_one_million() {
    run(1_000_000);
}

/// Rank timing `immediate` (§13) on a chain `n` deep: every member but the
/// root sells one order of 100.00, bottom first; the root m0 is the only
/// partner. Each order's links look for the nearest partner above the
/// seller: m0, `depth` members up. Found on the tree's heavy paths, that is
/// O(log² n) an order, not the chain's depth (the whole period would
/// otherwise be quadratic in it).
fn run_immediate(n: usize) {
    let policy = r#"{"version":2,"rank_timing":"immediate",
        "ranks":[{"id":"member"},{"id":"partner","rate":"0.20"}],
        "rules":[{"id":"spread","type":"differential"},
                 {"id":"dist","type":"levels","rates":["0","0.01"],"compress":true,"min_rank":"partner"}]}"#;
    let mut s = String::with_capacity(n * 80);
    s.push_str(r#"{"members":[{"id":"m0","rank":"partner"}"#);
    for i in 1..n {
        let _ = write!(s, r#",{{"id":"m{i}","sponsor":"m{}"}}"#, i - 1);
    }
    s.push_str(r#"],"events":["#);
    for i in (1..n).rev() {
        let comma = if i + 1 == n { "" } else { "," };
        let _ = write!(
            s,
            r#"{comma}{{"id":"o{i}","seller":"m{i}","amount":"100.00"}}"#
        );
    }
    s.push_str("]}");
    let out = fenrun::settle_json(policy, &s).expect("deep chain settles");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    // Each order of m(i): spread 100.00 × (0.20 − 0) = 20.00 at level i
    // (m0 is i members up) and dist 100.00 × 0.01 = 1.00 at level 1 (the
    // first partner up, compressed), both to m0; n − 1 orders.
    let lines = doc["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 2 * (n - 1));
    for (k, pair) in lines.chunks(2).enumerate() {
        let level = (n - 1 - k) as u64;
        assert_eq!(pair[0]["rule"], "spread");
        assert_eq!(pair[0]["beneficiary"], "m0");
        assert_eq!(pair[0]["level"].as_u64(), Some(level));
        assert_eq!(pair[0]["amount"], "20.00");
        assert_eq!(pair[1]["rule"], "dist");
        assert_eq!(pair[1]["beneficiary"], "m0");
        assert_eq!(pair[1]["level"], 1);
        assert_eq!(pair[1]["amount"], "1.00");
    }
    let want = format!("{}.00", 21 * (n - 1));
    assert_eq!(doc["totals"], serde_json::json!({ "m0": want }));
}

#[test]
fn immediate_chain_of_ten_thousand() {
    run_immediate(10_000);
}

#[test]
#[ignore = "300,000 members: run in release by .ci/run"]
fn immediate_chain_of_three_hundred_thousand() {
    run_immediate(300_000);
}
