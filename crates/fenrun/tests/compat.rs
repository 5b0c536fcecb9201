//! The options that reproduce the shop systems in use (SPEC §12.5) over
//! random worlds: with `"refunds": "whole"` a refunded order's lines net to
//! zero for every member from its first refund on, and net sales still fall
//! by every refund.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

mod common;

use std::collections::BTreeMap;

use fenrun::{Batch, Policy};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn money(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, .. ProptestConfig::default() })]

    #[test]
    fn whole_refunds_net_a_refunded_order_to_zero(w in common::world(16, 6, 16)) {
        let mut policy = w.policy();
        policy["version"] = json!(2);
        let proportional = Policy::from_value(policy.clone()).unwrap();
        policy["refunds"] = json!("whole");
        let whole = Policy::from_value(policy).unwrap();
        let doc = w.batch();
        let settle = |p: &Policy| -> Option<Value> {
            let b = Batch::from_value(doc.clone(), p).ok()?;
            Some(serde_json::from_str(&fenrun::settle(p, b).ok()?.to_json()).unwrap())
        };
        let (Some(s), Some(base)) = (settle(&whole), settle(&proportional)) else { return Ok(()) };
        let refunded: Vec<&str> = doc["events"].as_array().unwrap().iter()
            .filter_map(|e| e.get("refund_of").and_then(Value::as_str))
            .collect();
        let mut net: BTreeMap<(&str, &str), Decimal> = BTreeMap::new();
        let mut reversals: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
        for l in s["lines"].as_array().unwrap() {
            let Some(order) = l.get("order").and_then(Value::as_str) else { continue };
            *net.entry((order, l["beneficiary"].as_str().unwrap())).or_default() += money(&l["amount"]);
            if let Some(r) = l.get("refund").and_then(Value::as_str) {
                reversals.entry(order).or_default().insert(r);
            }
        }
        for ((order, member), total) in &net {
            if refunded.contains(order) {
                prop_assert!(total.is_zero(), "order {} nets {} for {}", order, total, member);
            }
        }
        // Only the first refund of an order writes reversals.
        for (order, refunds) in &reversals {
            let first = doc["events"].as_array().unwrap().iter()
                .find(|e| e.get("refund_of").and_then(Value::as_str) == Some(order))
                .and_then(|e| e["id"].as_str());
            prop_assert_eq!(refunds.iter().copied().collect::<Vec<_>>(), first.into_iter().collect::<Vec<_>>());
        }
        prop_assert_eq!(&s["summary"]["net_sales"], &base["summary"]["net_sales"]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, .. ProptestConfig::default() })]

    /// Orders of several units under per-unit rounding and a fixed amount
    /// per unit settle to the same totals kept line by line, totals only,
    /// and on two threads (the integer path takes single units only); with
    /// every quantity 1 they pay what the same policy per line and per
    /// order pays.
    #[test]
    fn quantities_settle_alike_on_every_path(
        w in common::world(16, 6, 16),
        quantities in prop::collection::vec(1u32..5, 64),
    ) {
        let mut policy = w.policy();
        policy["version"] = json!(2);
        let scale = policy.pointer("/rounding/scale").cloned().unwrap_or(json!(2));
        policy["rounding"] = json!({"scale": scale, "mode": "down", "per": "unit"});
        let mut per_line = policy.clone();
        per_line["rounding"] = json!({"scale": scale, "mode": "down"});
        if let Some(rules) = policy["rules"].as_array_mut() {
            rules.push(json!({"id": "unit", "type": "levels", "rates": [{"fixed": "0.30", "per": "unit"}]}));
        }
        if let Some(rules) = per_line["rules"].as_array_mut() {
            rules.push(json!({"id": "unit", "type": "levels", "rates": [{"fixed": "0.30"}]}));
        }
        let (per_unit, per_line) = (Policy::from_value(policy).unwrap(), Policy::from_value(per_line).unwrap());
        let mut doc = w.batch();
        let mut single = doc.clone();
        for (k, e) in doc["events"].as_array_mut().unwrap().iter_mut().enumerate() {
            if e.get("refund_of").is_none() {
                e["quantity"] = json!(quantities[k % quantities.len()]);
            }
        }
        for e in single["events"].as_array_mut().unwrap() {
            if e.get("refund_of").is_none() {
                e["quantity"] = json!(1);
            }
        }
        let Ok(batch) = Batch::from_value(doc, &per_unit) else { return Ok(()) };
        let engine = fenrun::Engine::new(&per_unit, batch).unwrap();
        let kept = engine.settle().unwrap();
        for threads in [1, 2] {
            let options = fenrun::SettleOptions::default().lines(fenrun::Lines::TotalsOnly).threads(threads);
            let totals = engine.settle_with(options).unwrap();
            prop_assert_eq!(kept.totals().collect::<Vec<_>>(), totals.totals().collect::<Vec<_>>());
            prop_assert_eq!(kept.total_paid(), totals.total_paid());
        }
        let one = |p: &Policy| {
            let b = Batch::from_value(single.clone(), p).unwrap();
            fenrun::settle(p, b).unwrap().to_json()
        };
        prop_assert_eq!(one(&per_unit), one(&per_line));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, .. ProptestConfig::default() })]

    /// Every §12.5 option written with its default value settles to the
    /// bytes of the same version-2 policy without it.
    #[test]
    fn options_at_their_defaults_change_no_byte(w in common::world(16, 6, 16)) {
        let mut policy = w.policy();
        policy["version"] = json!(2);
        let plain = Policy::from_value(policy.clone()).unwrap();
        policy["refunds"] = json!("proportional");
        let scale = policy.pointer("/rounding/scale").cloned().unwrap_or(json!(2));
        let mode = policy.pointer("/rounding/mode").cloned().unwrap_or(json!("half_up"));
        policy["rounding"] = json!({"scale": scale, "mode": mode, "per": "line"});
        for rule in policy["rules"].as_array_mut().unwrap() {
            if rule["type"] == "levels" && rule.get("compress") != Some(&json!(true)) {
                rule.as_object_mut().unwrap().remove("compress");
                rule["on_ineligible"] = json!("break");
            }
        }
        let explicit = Policy::from_value(policy).unwrap();
        let doc = w.batch();
        let settle = |p: &Policy| Batch::from_value(doc.clone(), p)
            .and_then(|b| fenrun::settle(p, b))
            .map(|s| s.to_json())
            .map_err(|e| e.to_string());
        prop_assert_eq!(settle(&explicit), settle(&plain));
    }
}
