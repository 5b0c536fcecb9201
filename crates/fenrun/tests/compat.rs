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
