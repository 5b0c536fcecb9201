//! Many categories (SPEC §12.1): a policy may name up to
//! `limits::MAX_CATEGORIES`, and a seller then has a schedule per category
//! its orders have, never a table of members × categories.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code

use fenrun::{Batch, Engine, Lines, Policy, SettleOptions};
use serde_json::{json, Value};

/// A `levels` rule whose category `c<k>` pays `k / 10,000` on the seller and
/// a tenth of that on its sponsor, for `k` in `1..=n`.
fn policy(n: usize) -> Value {
    let by_category: serde_json::Map<String, Value> = (1..=n)
        .map(|k| {
            let rate = format!("0.{k:04}");
            let up = format!("0.{k:05}");
            (format!("c{k}"), json!({"rates": [rate, up]}))
        })
        .collect();
    json!({"version": 2, "ranks": [{"id": "member"}],
           "rules": [{"id": "dist", "type": "levels", "rates": ["0.10", "0.01"], "by_category": by_category}]})
}

#[test]
fn a_policy_may_name_the_most_categories_and_no_more() {
    let most = fenrun::limits::MAX_CATEGORIES;
    let p = Policy::from_value(policy(most)).expect("at the limit");
    assert_eq!(p.categories().len(), most);
    let err = Policy::from_value(policy(most + 1)).unwrap_err();
    assert_eq!((err.code(), err.path()), ("limit_exceeded", "categories"));
}

#[test]
fn every_order_takes_its_categorys_rates_on_every_path() {
    let n = fenrun::limits::MAX_CATEGORIES;
    let policy = Policy::from_value(policy(n)).unwrap();
    let members: Vec<Value> = (0..2_000)
        .map(|i| {
            if i == 0 {
                json!({"id": "m0"})
            } else {
                json!({"id": format!("m{i}"), "sponsor": format!("m{}", (i - 1) / 3)})
            }
        })
        .collect();
    // 6,000 orders of 100.00 in categories c1..=c4096 and some the policy
    // does not name; each seller sells in many categories.
    let mut want = std::collections::BTreeMap::<String, i64>::new();
    let events: Vec<Value> = (0..6_000usize)
        .map(|k| {
            let seller = (k * 7) % 2_000;
            let c = (k * 13) % (n + 50) + 1; // c4097..c4146 are not named
            // In cents, of 100.00: category c<k> pays k / 10,000 → k cents
            // to the seller, k / 100,000 → k / 10 cents (rounded half up) to
            // its sponsor; a category the policy does not name 10.00 and 1.00.
            let (own, up) = if c <= n {
                (c as i64, (c as i64 + 5) / 10)
            } else {
                (1_000, 100)
            };
            *want.entry(format!("m{seller}")).or_default() += own;
            if seller > 0 {
                *want.entry(format!("m{}", (seller - 1) / 3)).or_default() += up;
            }
            json!({"id": format!("o{k}"), "seller": format!("m{seller}"), "amount": "100.00", "category": format!("c{c}")})
        })
        .collect();
    let batch = Batch::from_value(json!({"members": members, "events": events}), &policy).unwrap();
    let engine = Engine::new(&policy, batch).unwrap();
    let kept = engine.settle().unwrap();
    for (m, cents) in &want {
        let got = kept.total_of(m).unwrap_or_default();
        assert_eq!(got, rust_decimal::Decimal::new(*cents, 2), "{m}");
    }
    let totals = engine
        .settle_with(SettleOptions::default().lines(Lines::TotalsOnly))
        .unwrap();
    let strip = |s: String| {
        let mut v: Value = serde_json::from_str(&s).unwrap();
        v["lines"] = json!([]);
        v
    };
    assert_eq!(strip(totals.to_json()), strip(kept.to_json()));
}
