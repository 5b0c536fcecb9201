//! The bundled community-retail example settles to its hand-worked expectations.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

use std::fs;
use std::path::Path;

use serde_json::Value;

#[test]
fn community_retail_example_matches_hand_worked_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/community-retail");
    let read = |f: &str| fs::read_to_string(dir.join(f)).expect("example file");
    let out = fenrun::settle_json(&read("policy.json"), &read("batch.json")).expect("settles");
    let got: Value = serde_json::from_str(&out).expect("json");
    let want: Value = serde_json::from_str(&read("expected.json")).expect("json");
    for key in ["rank_changes", "totals", "summary"] {
        assert_eq!(got[key], want[key], "{key}");
    }
}
