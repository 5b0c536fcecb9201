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

/// A shop system's example (examples/yudao, examples/crmeb): its compat
/// policy settles to `expected.json`, splits as `as-of.json` says, and the
/// comparison with fenrun's defaults gives each member the hand-worked
/// total under the defaults.
fn shop_system_example(name: &str, defaults: &[(&str, &str)]) {
    matches_hand_worked_output(name);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    let read = |f: &str| fs::read_to_string(dir.join(f)).expect("example file");
    let policy = fenrun::Policy::from_json(&read("policy.json")).unwrap();
    let batch = fenrun::Batch::from_json(&read("batch.json"), &policy).unwrap();
    let engine = fenrun::Engine::new(&policy, batch).unwrap();
    let want: Value = serde_json::from_str(&read("as-of.json")).unwrap();
    let at = fenrun::Timestamp::parse_as_of(want["as_of"].as_str().unwrap()).unwrap();
    let split = engine
        .settle_with(fenrun::SettleOptions::default().as_of(at))
        .unwrap();
    let got: Value = serde_json::from_str(&split.to_json()).unwrap();
    assert_eq!(got["totals"], want["totals"], "{name}: totals as of");
    assert_eq!(
        got["summary"]["pending_total"], want["pending_total"],
        "{name}: pending"
    );
    let compared: Value = serde_json::from_str(
        &fenrun::compare_json(
            &read("policy.json"),
            &read("defaults-policy.json"),
            &read("batch.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for (member, total) in defaults {
        let row = compared["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["member"] == *member)
            .unwrap_or_else(|| panic!("{name}: {member} compared"));
        assert_eq!(
            row["total_b"], *total,
            "{name}: {member} under the defaults"
        );
    }
}

/// yudao (ruoyi-vue-pro) brokerage: worked in examples/yudao/README.md.
#[test]
fn yudao_example_matches_hand_worked_output() {
    shop_system_example("yudao", &[("p1", "15.50"), ("p2", "23.00"), ("p4", "0.00")]);
}

/// crmeb_java brokerage: worked in examples/crmeb/README.md.
#[test]
fn crmeb_example_matches_hand_worked_output() {
    shop_system_example("crmeb", &[("s1", "4.67"), ("s2", "5.33"), ("s4", "2.40")]);
}
