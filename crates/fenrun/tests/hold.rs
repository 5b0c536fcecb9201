//! Hold periods (SPEC §14.1) over random worlds: a hold changes no amount,
//! a batch document with `received` events settles as the ledger given the
//! same events, each reversal is available at the later of its line's time
//! and its refund's, and a settlement `as_of` any time splits every total
//! into what its lines made available by then and the rest.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

mod common;

use std::collections::BTreeMap;

use fenrun::{Batch, Engine, Ledger, Policy, SettleOptions, Timestamp};
use fenrun_testkit::world::World;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// A world, a hold (days, from receipt?), and per event an offset in hours
/// and whether (and how many hours later) an order is received.
type Held = (World, u32, bool, Vec<(u16, Option<u16>)>);

fn held() -> impl Strategy<Value = Held> {
    (
        common::world(16, 6, 16),
        0u32..10,
        any::<bool>(),
        prop::collection::vec((0u16..400, prop::option::of(0u16..300)), 64),
    )
}

/// The time `hours` after 2026-01-01T00:00:00Z on a calendar of 28-day
/// months (always a valid date, and later for more hours), written with an
/// offset of +08:00 on odd hours before 16:00 (the output is UTC either way).
fn at(hours: u32) -> String {
    let date = |d: u32| {
        format!(
            "{}-{:02}-{:02}",
            2026 + d / 336,
            1 + (d / 28) % 12,
            1 + d % 28
        )
    };
    let (day, hour) = (hours / 24, hours % 24);
    if hours % 2 == 1 && hour < 16 {
        format!("{}T{:02}:00:00+08:00", date(day), hour + 8)
    } else {
        format!("{}T{hour:02}:00:00Z", date(day))
    }
}

/// The world's policy as version 2 with `hold` (or none), and its events
/// with times that only move forward, `received` events after some orders.
fn documents(h: &Held, hold: bool) -> (Policy, Value) {
    documents_with(h, hold, true)
}

/// [`documents`] with the hold's `clawback` option.
fn documents_with(h: &Held, hold: bool, clawback: bool) -> (Policy, Value) {
    let (w, days, receipt, times) = h;
    let mut policy = w.policy();
    policy["version"] = json!(2);
    if hold {
        let from = if *receipt { "received" } else { "paid" };
        policy["hold"] = json!({"days": days, "from": from, "clawback": clawback});
    }
    let mut doc = w.batch();
    let mut clock = 0u32;
    let mut events = Vec::new();
    for (k, mut e) in doc["events"]
        .as_array()
        .cloned()
        .unwrap()
        .into_iter()
        .enumerate()
    {
        let (step, received) = times[k % times.len()];
        clock += u32::from(step);
        e["at"] = json!(at(clock));
        let is_order = e.get("refund_of").is_none();
        let id = e["id"].as_str().unwrap().to_owned();
        events.push(e);
        if let (true, true, Some(later)) = (hold, is_order, received) {
            events.push(json!({"id": format!("rcv-{id}"), "received": id,
                               "at": at(clock + u32::from(later))}));
        }
    }
    doc["events"] = Value::Array(events);
    (Policy::from_value(policy).unwrap(), doc)
}

/// Each refund's time by its id.
fn refunds_at(doc: &Value) -> BTreeMap<String, Timestamp> {
    doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.get("refund_of").is_some())
        .map(|e| {
            let at = Timestamp::parse(e["at"].as_str().unwrap()).unwrap();
            (e["id"].as_str().unwrap().to_owned(), at)
        })
        .collect()
}

fn strip(mut doc: Value) -> Value {
    for l in doc["lines"].as_array_mut().unwrap() {
        l.as_object_mut().unwrap().remove("available_at");
    }
    doc
}

fn money(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, .. ProptestConfig::default() })]

    #[test]
    fn a_hold_changes_no_amount_and_splits_totals_by_its_lines(
        h in held(),
        cut in 0u32..2_000,
    ) {
        let (plain_policy, plain_doc) = documents(&h, false);
        let (policy, doc) = documents(&h, true);
        let Ok(plain) = Batch::from_value(plain_doc, &plain_policy)
            .and_then(|b| fenrun::settle(&plain_policy, b)) else { return Ok(()) };
        let engine = Engine::new(&policy, Batch::from_value(doc.clone(), &policy).unwrap()).unwrap();
        let held = engine.settle().unwrap();
        let held_doc: Value = serde_json::from_str(&held.to_json()).unwrap();
        // Nothing but `available_at` differs.
        let plain_doc: Value = serde_json::from_str(&plain.to_json()).unwrap();
        prop_assert_eq!(strip(held_doc.clone()), plain_doc);

        // The events one by one give the same bytes.
        let mut ledger = Ledger::open_value(&policy, json!({"members": doc["members"], "groups": doc["groups"]})).unwrap();
        for e in doc["events"].as_array().unwrap() {
            ledger.apply_value(e.clone()).unwrap();
        }
        prop_assert_eq!(ledger.settlement().unwrap().to_json(), held.to_json());

        // A reversal is available at the later of its line's time and its refund's.
        let refund_at: BTreeMap<&str, Timestamp> = doc["events"].as_array().unwrap().iter()
            .filter(|e| e.get("refund_of").is_some())
            .map(|e| (e["id"].as_str().unwrap(), Timestamp::parse(e["at"].as_str().unwrap()).unwrap()))
            .collect();
        let lines = held_doc["lines"].as_array().unwrap();
        let order_at: BTreeMap<&str, Option<&str>> = lines.iter()
            .filter(|l| l.get("order").is_some() && l.get("refund").is_none())
            .map(|l| (l["order"].as_str().unwrap(), l.get("available_at").and_then(Value::as_str)))
            .collect();
        for l in lines.iter().filter(|l| l.get("refund").is_some()) {
            let line = order_at.get(l["order"].as_str().unwrap()).copied().flatten()
                .map(|t| Timestamp::parse(t).unwrap());
            let refund = refund_at[l["refund"].as_str().unwrap()];
            let want = line.map(|t| t.max(refund));
            let got = l.get("available_at").map(|t| Timestamp::parse(t.as_str().unwrap()).unwrap());
            prop_assert_eq!(got, want, "{}", l);
        }

        // As of any time: available is what the lines made available by then.
        let as_of = Timestamp::parse(&at(cut)).unwrap();
        let split = engine.settle_with(SettleOptions::default().as_of(as_of)).unwrap();
        let split: Value = serde_json::from_str(&split.to_json()).unwrap();
        let mut available: BTreeMap<&str, Decimal> = BTreeMap::new();
        for l in lines {
            let open = match l.get("available_at") {
                Some(t) => Timestamp::parse(t.as_str().unwrap()).unwrap() <= as_of,
                None => l.get("order").is_none(),
            };
            if open {
                *available.entry(l["beneficiary"].as_str().unwrap()).or_default() += money(&l["amount"]);
            }
        }
        let mut pending_total = Decimal::ZERO;
        for (member, net) in held_doc["totals"].as_object().unwrap() {
            let entry = &split["totals"][member];
            let a = available.get(member.as_str()).copied().unwrap_or_default();
            prop_assert_eq!(money(&entry["net"]), money(net));
            prop_assert_eq!(money(&entry["available"]), a);
            prop_assert_eq!(money(&entry["pending"]), money(net) - a);
            pending_total += money(net) - a;
        }
        prop_assert_eq!(money(&split["summary"]["pending_total"]), pending_total);
    }

    /// §12.5 `clawback: false`: no reversal line is dated after its line
    /// became available (every written reversal is a void), and the lines
    /// written are those of the same hold with clawbacks, less the clawbacks.
    #[test]
    fn without_clawback_every_written_reversal_is_a_void(h in held()) {
        let (policy, doc) = documents_with(&h, true, false);
        let (with_policy, _) = documents_with(&h, true, true);
        let Ok(batch) = Batch::from_value(doc.clone(), &policy) else { return Ok(()) };
        let settled: Value = serde_json::from_str(&fenrun::settle(&policy, batch).unwrap().to_json()).unwrap();
        let full = Batch::from_value(doc.clone(), &with_policy).unwrap();
        let full: Value = serde_json::from_str(&fenrun::settle(&with_policy, full).unwrap().to_json()).unwrap();
        let lines = settled["lines"].as_array().unwrap();
        let order_at: BTreeMap<&str, Option<&str>> = lines.iter()
            .filter(|l| l.get("order").is_some() && l.get("refund").is_none())
            .map(|l| (l["order"].as_str().unwrap(), l.get("available_at").and_then(Value::as_str)))
            .collect();
        for l in lines.iter().filter(|l| l.get("refund").is_some()) {
            let line = order_at.get(l["order"].as_str().unwrap()).copied().flatten();
            prop_assert_eq!(l.get("available_at").and_then(Value::as_str), line, "{}", l);
        }
        // The full settlement's order lines, clawbacks (a refund at or after
        // its line became available) left out; member-cap lines follow totals.
        let refund_at: BTreeMap<String, Timestamp> = refunds_at(&doc);
        let kept: Vec<&Value> = full["lines"].as_array().unwrap().iter()
            .filter(|l| l.get("order").is_some())
            .filter(|l| {
                let Some(r) = l.get("refund").and_then(Value::as_str) else { return true };
                let line = order_at.get(l["order"].as_str().unwrap()).copied().flatten();
                line.is_none_or(|t| Timestamp::parse(t).unwrap() > refund_at[r])
            })
            .collect();
        let lines: Vec<&Value> = lines.iter().filter(|l| l.get("order").is_some()).collect();
        prop_assert_eq!(lines, kept);
    }
}
