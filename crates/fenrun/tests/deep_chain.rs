//! A single sponsor chain 1,000,000 members deep loads, evaluates and settles
//! without recursion (no stack overflow) and with per-order work bounded by
//! what the rules can pay. Run in release by `.ci/run`:
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
