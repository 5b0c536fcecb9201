//! `fenrun ledger`: a period kept in a state file. Killed at any moment and
//! run again with the same arguments, `ledger apply` leaves a state whose
//! settlement is byte for byte the uninterrupted run's (and the batch's).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{fenrun, scratch};

const POLICY: &str = r#"{"version": 2,
  "ranks": [{"id": "member", "rate": "0.05"},
            {"id": "group_owner", "rate": "0.10", "upgrade": {"metric": "largest_group", "gte": 100}},
            {"id": "team_leader", "rate": "0.15", "upgrade": {"metric": "team_sales", "gte": "50000"}},
            {"id": "partner", "rate": "0.20"}],
  "evaluate_ranks": true,
  "rules": [{"id": "spread", "type": "differential"},
            {"id": "dist", "type": "levels", "rates": ["0", "0.03", "0.01"]}]}"#;

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A JSON Lines file `name` of `events`, one a line.
fn events_file<S: AsRef<str>>(name: &str, events: &[S]) -> String {
    let text: String = events.iter().map(|e| format!("{}\n", e.as_ref())).collect();
    scratch(name, &text)
}

/// The path `name` of a state file that does not exist yet.
fn new_state(name: &str) -> String {
    let state = scratch(name, "");
    std::fs::remove_file(&state).unwrap();
    state
}

/// A generated batch: its members-and-groups document, its events as JSON
/// Lines, and the batch file itself.
fn generated(dir: &str, members: &str, orders: &str) -> (String, String, String) {
    let out = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cli-tests")
        .join(format!("{dir}-gen"));
    let out = out.to_str().unwrap().to_owned();
    ok(&fenrun(&[
        "gen",
        "--members",
        members,
        "--orders",
        orders,
        "--format",
        "json",
        "--out",
        &out,
    ]));
    let batch_path = format!("{out}/batch.json");
    let batch: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&batch_path).unwrap()).unwrap();
    let start = serde_json::json!({"members": batch["members"], "groups": batch["groups"]});
    let lines: Vec<String> = batch["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.to_string())
        .collect();
    (
        scratch(&format!("{dir}-start.json"), &start.to_string()),
        events_file(&format!("{dir}-events.jsonl"), &lines),
        batch_path,
    )
}

#[test]
fn open_apply_settle_equals_batch_settle() {
    let policy = scratch("ledger-policy.json", POLICY);
    let (start, events, batch) = generated("ledger-basic", "300", "2000");
    let state = new_state("ledger-basic.state");
    ok(&fenrun(&[
        "ledger", "open", "--policy", &policy, "--state", &state, "--batch", &start,
    ]));
    // A second open refuses to overwrite the period.
    let again = fenrun(&[
        "ledger", "open", "--policy", &policy, "--state", &state, "--batch", &start,
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
    let said = ok(&fenrun(&[
        "ledger", "apply", "--policy", &policy, "--state", &state, "--events", &events,
    ]));
    assert!(said.starts_with("applied "), "{said}");
    // Applied again: every event is a duplicate.
    let said = ok(&fenrun(&[
        "ledger", "apply", "--policy", &policy, "--state", &state, "--events", &events,
    ]));
    assert!(said.starts_with("applied 0, duplicates "), "{said}");
    let ledger = ok(&fenrun(&[
        "ledger", "settle", "--policy", &policy, "--state", &state,
    ]));
    let whole = ok(&fenrun(&["settle", "--policy", &policy, "--batch", &batch]));
    assert_eq!(ledger, whole);
}

#[test]
fn a_refused_event_stops_the_run_and_keeps_the_events_before_it() {
    let policy = scratch("ledger-policy-2.json", POLICY);
    let state = new_state("ledger-refused.state");
    let events = events_file(
        "ledger-refused.jsonl",
        &[
            r#"{"id": "e1", "member": {"id": "m1"}}"#,
            "",
            r#"{"id": "o1", "seller": "m1", "amount": "100.00"}"#,
            r#"{"id": "o2", "seller": "m9", "amount": "100.00"}"#,
            r#"{"id": "o3", "seller": "m1", "amount": "100.00"}"#,
        ],
    );
    let out = fenrun(&[
        "ledger", "apply", "--policy", &policy, "--state", &state, "--events", &events,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[unknown_seller]: ")
            && err.contains("ledger-refused.jsonl line 4: seller"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("applied 2, duplicates 0; 2 events"));
    // m1 earns 0.05 × 100.00 on o1 only.
    let settled = ok(&fenrun(&[
        "ledger", "settle", "--policy", &policy, "--state", &state,
    ]));
    assert!(settled.contains(r#""totals":{"m1":"5.00"}"#), "{settled}");
    // A state of another policy is refused.
    let other = scratch("ledger-policy-other.json", &POLICY.replace("0.05", "0.06"));
    let out = fenrun(&["ledger", "settle", "--policy", &other, "--state", &state]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[foreign_snapshot]"));
}

#[test]
fn killed_at_any_moment_and_run_again_gives_the_same_bytes() {
    let policy = scratch("ledger-policy-3.json", POLICY);
    let (start, events, _) = generated("ledger-kill", "2000", "30000");
    let open = |state: &str| {
        let _ = std::fs::remove_file(state);
        ok(&fenrun(&[
            "ledger", "open", "--policy", &policy, "--state", state, "--batch", &start,
        ]));
    };
    let apply = |state: &str| {
        fenrun(&[
            "ledger", "apply", "--policy", &policy, "--state", state, "--events", &events,
        ])
    };
    let settle = |state: &str| {
        ok(&fenrun(&[
            "ledger", "settle", "--policy", &policy, "--state", state,
        ]))
    };

    let quiet = scratch("ledger-kill-quiet.state", "");
    open(&quiet);
    ok(&apply(&quiet));
    let want = settle(&quiet);

    // Kills at spread delays (a pseudo-random sequence, the same every run),
    // each followed by a run to the end; and kills during that rerun too.
    let state = scratch("ledger-kill.state", "");
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut killed = 0;
    for round in 0..6 {
        open(&state);
        for _ in 0..round % 3 + 1 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let delay = Duration::from_millis(5 + (seed >> 33) % 400);
            let mut child = Command::new(env!("CARGO_BIN_EXE_fenrun"))
                .args([
                    "ledger", "apply", "--policy", &policy, "--state", &state, "--events", &events,
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(delay);
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                killed += 1;
            }
            child.wait().unwrap();
            // Whatever the moment, the state is the old one or the new one.
            assert_eq!(
                std::fs::read_to_string(&state).unwrap().lines().next(),
                Some("fenrun-ledger-snapshot 1")
            );
        }
        ok(&apply(&state));
        assert_eq!(settle(&state), want, "round {round}");
    }
    assert!(killed > 0, "no run was killed: the events are too few");
}

#[test]
fn apply_says_how_many_members_change_rank_so_far() {
    // An owner from 100.00 of sales: m1 reaches it with o1 (150.00), m2 does not.
    let policy = scratch(
        "ledger-ranks-policy.json",
        r#"{"version": 2, "evaluate_ranks": true,
            "ranks": [{"id": "member"}, {"id": "owner", "rate": "0.10",
                      "upgrade": {"metric": "sales", "gte": "100"}}]}"#,
    );
    let state = new_state("ledger-ranks.state");
    let events = events_file(
        "ledger-ranks.jsonl",
        &[
            r#"{"id": "e1", "member": {"id": "m1"}}"#,
            r#"{"id": "e2", "member": {"id": "m2", "sponsor": "m1"}}"#,
            r#"{"id": "o1", "seller": "m1", "amount": "150.00"}"#,
            r#"{"id": "o2", "seller": "m2", "amount": "99.99"}"#,
        ],
    );
    let said = ok(&fenrun(&[
        "ledger", "apply", "--policy", &policy, "--state", &state, "--events", &events,
    ]));
    assert_eq!(
        said,
        "applied 4, duplicates 0; 4 events in the period; rank changes so far: 1\n"
    );
}

#[test]
fn apply_writes_the_lines_of_the_events_it_applied() {
    // `immediate` timing: an owner (10 %) from 100.00 of own sales, a member
    // earns 5 % of its own sales as the differential from nothing.
    let policy = scratch(
        "ledger-lines-policy.json",
        r#"{"version": 2, "rank_timing": "immediate", "evaluate_ranks": true,
            "ranks": [{"id": "member", "rate": "0.05"}, {"id": "owner", "rate": "0.10",
                      "upgrade": {"metric": "sales", "gte": "100"}}],
            "rules": [{"id": "spread", "type": "differential"}]}"#,
    );
    let state = new_state("ledger-lines.state");
    // o1 is settled with m1 a member: 0.05 × 150.00 = 7.50; after it m1
    // has 150.00 of sales and is an owner.
    let first = events_file(
        "ledger-lines-1.jsonl",
        &[
            r#"{"id": "e1", "member": {"id": "m1"}}"#,
            r#"{"id": "o1", "seller": "m1", "amount": "150.00"}"#,
        ],
    );
    ok(&fenrun(&[
        "ledger", "apply", "--policy", &policy, "--state", &state, "--events", &first,
    ]));
    // The next run's lines only: o2 at the owner's rate, 0.10 × 20.00 =
    // 2.00; r1 reverses all of o1's line at its own rate, −7.50.
    let second = events_file(
        "ledger-lines-2.jsonl",
        &[
            r#"{"id": "o2", "seller": "m1", "amount": "20.00"}"#,
            r#"{"id": "r1", "refund_of": "o1", "amount": "150.00"}"#,
        ],
    );
    let lines = scratch("ledger-lines-out.jsonl", "");
    let said = ok(&fenrun(&[
        "ledger",
        "apply",
        "--policy",
        &policy,
        "--state",
        &state,
        "--events",
        &second,
        "--lines-out",
        &lines,
    ]));
    assert_eq!(
        said,
        "applied 2, duplicates 0; 4 events in the period; rank changes so far: 1\n"
    );
    assert_eq!(
        std::fs::read_to_string(&lines).unwrap(),
        concat!(
            r#"{"order":"o2","rule":"spread","kind":"differential","beneficiary":"m1","level":0,"base":"20.00","rate":"0.1","amount":"2.00"}"#,
            "\n",
            r#"{"order":"o1","refund":"r1","rule":"spread","kind":"differential","beneficiary":"m1","level":0,"base":"150.00","rate":"0.05","amount":"-7.50"}"#,
            "\n"
        )
    );
}
