//! The bundled examples settle to their hand-worked expectations.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

use std::fs;
use std::path::Path;

use serde_json::Value;

/// Settle example `name` and compare every key its `expected.json` holds.
fn matches_hand_worked_output(name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    let read = |f: &str| fs::read_to_string(dir.join(f)).expect("example file");
    let out = fenrun::settle_json(&read("policy.json"), &read("batch.json")).expect("settles");
    let got: Value = serde_json::from_str(&out).expect("json");
    let want: Value = serde_json::from_str(&read("expected.json")).expect("json");
    let keys = want.as_object().expect("an object");
    assert!(keys.contains_key("totals") && keys.contains_key("summary"));
    for (key, value) in keys {
        assert_eq!(&got[key], value, "{name}: {key}");
    }
}

#[test]
fn community_retail_example_matches_hand_worked_output() {
    matches_hand_worked_output("community-retail");
}

/// The version-2 example: per-category rates, a step rate, a fixed gift-box
/// commission, a member cap and retention.
#[test]
fn fresh_beauty_example_matches_hand_worked_output() {
    matches_hand_worked_output("fresh-beauty");
}
