//! The SQLite store across restarts: what it settles after any number of
//! stops is what one uninterrupted ledger settles, and a refused event
//! keeps the events before it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use fenrun_example_ledger_sqlite::{Store, StoreError};
use rusqlite::Connection;

const POLICY: &str = r#"{"version": 2,
  "ranks": [{"id": "member", "rate": "0.10"},
            {"id": "owner", "rate": "0.20", "upgrade": {"metric": "largest_group", "gte": 100}}],
  "evaluate_ranks": true,
  "rules": [{"id": "spread", "type": "differential"}]}"#;

const START: &str = r#"{"members": [{"id": "m1"}, {"id": "m2", "sponsor": "m1"}]}"#;

const EVENTS: [&str; 6] = [
    r#"{"id": "e1", "member": {"id": "m3", "sponsor": "m2"}}"#,
    r#"{"id": "o1", "seller": "m3", "amount": "100.00"}"#,
    r#"{"id": "g1", "group": {"id": "g1", "owner": "m1", "size": 150}}"#,
    r#"{"id": "o1", "seller": "m3", "amount": "100.00"}"#,
    r#"{"id": "o2", "seller": "m2", "amount": "50.00"}"#,
    r#"{"id": "r1", "refund_of": "o1", "amount": "40.00"}"#,
];

fn policy() -> fenrun::Policy {
    fenrun::Policy::from_json(POLICY).unwrap()
}

fn db_file(name: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.sqlite"));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn a_store_stopped_after_every_event_settles_as_one_run() {
    let path = db_file("restarts");
    let p = policy();
    Store::open(Connection::open(&path).unwrap(), &p, Some(START)).unwrap();
    let mut duplicates = Vec::new();
    for event in EVENTS {
        // A new process for every event; a snapshot every second event, so
        // reopening restores a snapshot and replays the journal after it.
        let mut store = Store::open(Connection::open(&path).unwrap(), &p, None).unwrap();
        store.snapshot_every = 2;
        if store.apply(event).unwrap().duplicate {
            duplicates.push(event);
        }
    }
    assert_eq!(duplicates, [EVENTS[3]]);
    let store = Store::open(Connection::open(&path).unwrap(), &p, None).unwrap();
    let settled = store.settlement().unwrap();

    // By hand (SPEC §5.2, §6.2): g1 of 150 makes m1 owner (0.20); m2 and m3
    // are members (0.10). o1 100.00 by m3: m3 0.10 × 100 = 10.00, m2 nothing
    // (0.10 − 0.10), m1 (0.20 − 0.10) × 100 = 10.00. o2 50.00 by m2: m2 5.00,
    // m1 5.00. r1 reverses 40 of o1's 100: m3 −4.00, m1 −4.00.
    // m1 10 + 5 − 4 = 11.00; m2 5.00; m3 10 − 4 = 6.00.
    let total = |m: &str| settled.total_of(m).map(|d| d.to_string());
    assert_eq!(total("m1").as_deref(), Some("11.00"));
    assert_eq!(total("m2").as_deref(), Some("5.00"));
    assert_eq!(total("m3").as_deref(), Some("6.00"));

    // The same bytes as one ledger that never stopped.
    let mut one = fenrun::Ledger::open_json(&p, START).unwrap();
    for event in EVENTS {
        one.apply_json(event).unwrap();
    }
    assert_eq!(settled.to_json(), one.settlement().unwrap().to_json());
}

#[test]
fn a_refused_event_keeps_the_events_before_it() {
    let path = db_file("refused");
    let p = policy();
    let mut store = Store::open(Connection::open(&path).unwrap(), &p, Some(START)).unwrap();
    let lines = [
        EVENTS[0],
        EVENTS[1],
        r#"{"id": "o9", "seller": "m9", "amount": "1.00"}"#,
        EVENTS[4],
    ]
    .join("\n");
    let err = store.apply_lines(&lines).unwrap_err();
    let StoreError::Fenrun(err) = err else {
        panic!("expected the ledger's error, got {err}");
    };
    assert_eq!(
        (err.code(), err.path()),
        ("unknown_seller", "events[2].seller")
    );
    drop(store);
    let store = Store::open(Connection::open(&path).unwrap(), &p, None).unwrap();
    assert_eq!(store.ledger().len(), 2);
    // o1 alone, m1 still a member: m3 10.00, m2 nothing, m1 nothing.
    let settled = store.settlement().unwrap();
    assert_eq!(settled.total_of("m3").unwrap().to_string(), "10.00");
    assert_eq!(settled.total_of("m1"), None);
}

#[test]
fn a_database_of_another_policy_or_of_no_period_is_refused() {
    let path = db_file("foreign");
    Store::open(Connection::open(&path).unwrap(), &policy(), Some(START)).unwrap();
    let other = fenrun::Policy::from_json(&POLICY.replace("0.20", "0.25")).unwrap();
    match Store::open(Connection::open(&path).unwrap(), &other, None) {
        Err(StoreError::Fenrun(e)) => assert_eq!(e.code(), "foreign_snapshot"),
        Err(e) => panic!("expected foreign_snapshot, got {e}"),
        Ok(_) => panic!("expected foreign_snapshot, got a store"),
    }
    let empty = Connection::open_in_memory().unwrap();
    assert!(matches!(
        Store::open(empty, &policy(), None),
        Err(StoreError::NoPeriod)
    ));
}
