//! Property tests for the invariants of SPEC §10 and the rank evaluation of §4,
//! over random forests, ladders, policies and event streams. The worlds and the
//! invariant checks live in `fenrun-testkit`, shared with the fuzz targets.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

mod common;

use fenrun::{Batch, Engine, Lines, Policy, SettleOptions};
use fenrun_testkit::world::{
    check_invariants, check_split_merge, check_spread, member_id, World, RANKS,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn world() -> impl Strategy<Value = World> {
    common::world(25, 12, 25)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// §10.1–§10.4: determinism under shuffles, pools sum exactly, fully refunded
    /// orders net to zero per member, the cap holds, totals add up.
    #[test]
    fn settlement_invariants(w in world()) {
        prop_assert_eq!(check_invariants(&w), Ok(()));
    }

    /// §10.6: parts merge into the whole.
    #[test]
    fn split_and_merge(w in world(), parts in 1usize..5) {
        prop_assert_eq!(check_split_merge(&w, parts), Ok(()));
    }

    /// §10.6 across machines: parts that hold only their orders, sums and
    /// parts sent as bytes, finished where no order is.
    #[test]
    fn spread_over_machines(w in world(), parts in 1usize..5) {
        prop_assert_eq!(check_spread(&w, parts), Ok(()));
    }

    /// Streaming lines to a sink gives the same lines, totals and summary as keeping them.
    #[test]
    fn streaming_equals_kept(w in world()) {
        let policy = Policy::from_value(w.policy()).unwrap();
        let batch = Batch::from_value(w.batch(), &policy).unwrap();
        let engine = Engine::new(&policy, batch).unwrap();
        let kept = engine.settle().unwrap();
        let mut streamed = Vec::new();
        let s = engine.settle_to(SettleOptions::default().lines(Lines::Stream), |l| { streamed.push(format!("{l:?}")); Ok(()) }).unwrap();
        let kept_lines: Vec<String> = kept.lines().map(|l| format!("{l:?}")).collect();
        prop_assert_eq!(streamed, kept_lines);
        prop_assert_eq!(s.line_count(), 0);
        let strip = |j: String| { let mut v: Value = serde_json::from_str(&j).unwrap(); v["lines"] = json!([]); v };
        prop_assert_eq!(strip(s.to_json()), strip(kept.to_json()));
    }

    /// §12: a version-2 policy that uses no version-2 field, over orders
    /// with categories it does not name, gives the version-1 bytes.
    #[test]
    fn version_2_without_new_fields_is_version_1(w in world()) {
        let mut v1 = w.clone();
        v1.v2 = 0;
        let one = fenrun::settle_json(&v1.policy().to_string(), &v1.batch().to_string());
        let mut v2 = w.clone();
        v2.v2 = fenrun_testkit::world::v2::CATEGORIES;
        let mut p = v2.policy();
        p["version"] = json!(2);
        let two = fenrun::settle_json(&p.to_string(), &v2.batch().to_string());
        match (one, two) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a.code(), b.code()),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a.err(), b.err()),
        }
    }

    /// §4: evaluation never lowers a rank, and equals a naive reference evaluator.
    #[test]
    fn ranks_match_naive_reference(w in world()) {
        let mut pv = w.policy();
        pv["evaluate_ranks"] = json!(true);
        let policy = Policy::from_value(pv).unwrap();
        let batch = Batch::from_value(w.batch(), &policy).unwrap();
        let engine = Engine::new(&policy, batch).unwrap();
        let expected = naive_ranks(&w);
        for (i, want) in expected.iter().enumerate() {
            let got = engine.rank_of(&member_id(i)).unwrap();
            prop_assert_eq!(got, RANKS[*want], "member {}", member_id(i));
            let input = w.members[i].1 as usize % 2;
            let retains = w.v2 & fenrun_testkit::world::v2::RETAIN != 0;
            prop_assert!(*want >= input || retains, "rank lowered without retain");
        }
    }

    /// Amounts near the top of the exact decimal range settle or fail with
    /// `arithmetic_overflow`; they never panic or wrap.
    #[test]
    fn amounts_near_decimal_max(digits in prop::collection::vec(1u64..=u64::MAX, 1..6), scale_down in 0u32..4) {
        let max = Decimal::MAX;
        let events: Vec<Value> = digits.iter().enumerate().map(|(k, d)| {
            // max × d / u64::MAX / 10^scale_down, truncated to an integer amount.
            let a = (max / Decimal::from(u64::MAX) * Decimal::from(*d) / Decimal::from(10u64.pow(scale_down))).trunc().max(Decimal::ONE);
            json!({"id": format!("o{k}"), "seller": "m1", "buyer": "m0", "amount": a.to_string()})
        }).collect();
        let policy = json!({"version": 1, "rounding": {"scale": 0},
            "ranks": [{"id": "member", "rate": "0.9"}, {"id": "top", "rate": "1"}],
            "rules": [{"id": "l", "type": "levels", "rates": ["1", "0.999"]}, {"id": "d", "type": "differential"},
                      {"id": "p", "type": "pool", "rate": "1", "split": {"weighted_by": "sales"}}],
            "order_cap": "1"});
        let batch = json!({"members": [{"id": "m0", "rank": "top"}, {"id": "m1", "sponsor": "m0"}], "events": events});
        match fenrun::settle_json(&policy.to_string(), &batch.to_string()) {
            Ok(out) => prop_assert!(out.contains("\"total_paid\"")),
            Err(e) => prop_assert_eq!(e.code(), "arithmetic_overflow", "{}", e),
        }
    }
}

/// A deliberately simple evaluator: members deepest first, every metric by brute
/// force over the whole member list, the ladder condition by condition.
fn naive_ranks(w: &World) -> Vec<usize> {
    let n = w.members.len();
    let parent: Vec<Option<usize>> = (0..n).map(|i| w.sponsor(i)).collect();
    let is_desc = |d: usize, a: usize| {
        let mut cur = parent[d];
        while let Some(p) = cur {
            if p == a {
                return true;
            }
            cur = parent[p];
        }
        false
    };
    let depth = |i: usize| {
        let mut d = 0;
        let mut cur = parent[i];
        while let Some(p) = cur {
            d += 1;
            cur = parent[p];
        }
        d
    };
    let dec = |v: &Value| v.as_str().unwrap().parse::<Decimal>().unwrap();
    let mut sales = vec![Decimal::ZERO; n];
    let events = w.events();
    for e in &events {
        let seller_of = |o: &Value| o["seller"].as_str().unwrap()[1..].parse::<usize>().unwrap();
        match e.get("refund_of") {
            None => sales[seller_of(e)] += dec(&e["amount"]),
            Some(of) => {
                let order = events.iter().find(|x| x["id"] == *of).unwrap();
                sales[seller_of(order)] -= dec(&e["amount"]);
            }
        }
    }
    let mut rank: Vec<usize> = w.members.iter().map(|m| m.1 as usize % 2).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(depth(i)));
    for m in order {
        let groups: Vec<u16> = w
            .groups
            .iter()
            .filter(|(o, _)| *o as usize % n == m)
            .map(|g| g.1)
            .collect();
        let team_sales: Decimal = (0..n)
            .filter(|&d| d == m || is_desc(d, m))
            .map(|d| sales[d])
            .sum();
        let children: Vec<usize> = (0..n).filter(|&c| parent[c] == Some(m)).collect();
        let team_size = (0..n).filter(|&d| is_desc(d, m)).count();
        let go = groups.iter().copied().max().unwrap_or(0) >= 100;
        let tl = (groups.iter().filter(|s| **s >= 50).count() >= 2
            && team_sales >= Decimal::from(5000))
            || children.iter().filter(|&&c| rank[c] >= 1).count() >= 2;
        let legs = children
            .iter()
            .filter(|&&c| rank[c] >= 2 || (0..n).any(|d| is_desc(d, c) && rank[d] >= 2))
            .count();
        let partner = legs >= 2 && team_size >= 3 && w.members[m].3 >= 2;
        // §12.4: group_owner retains with a group of 50; below it the floor
        // is member.
        let largest = groups.iter().copied().max().unwrap_or(0);
        let retains = w.v2 & fenrun_testkit::world::v2::RETAIN != 0;
        let floor = if retains && rank[m] == 1 && largest < 50 {
            0
        } else {
            rank[m]
        };
        let reached = if partner {
            3
        } else if tl {
            2
        } else if go {
            1
        } else {
            0
        };
        rank[m] = floor.max(reached);
    }
    rank
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, .. ProptestConfig::default() })]

    /// A policy compared with itself changes nothing; compared with another
    /// world's policy, each member's delta is the difference of the two
    /// settlements' totals, and the rows come largest change first.
    #[test]
    fn comparison_deltas_are_the_totals_difference(w in world(), other in world()) {
        let policy_a = Policy::from_value(w.policy()).unwrap();
        let batch = w.batch();
        let engine = |p: &Policy| Engine::new(p, Batch::from_value(batch.clone(), p).unwrap()).unwrap();
        let a = engine(&policy_a);
        let settled_a = a.settle().unwrap();
        let same = fenrun::compare(&a, &settled_a, &a, &settled_a).unwrap();
        prop_assert!(same.members.iter().all(|m| m.delta.is_zero() && m.total_a == m.total_b && m.rank_a == m.rank_b));

        let mut b_world = other.clone();
        b_world.members = w.members.clone();
        b_world.groups = w.groups.clone();
        b_world.orders = w.orders.clone();
        b_world.shuffle = w.shuffle;
        let Ok(policy_b) = Policy::from_value(b_world.policy()) else { return Ok(()) };
        let Ok(batch_b) = Batch::from_value(batch.clone(), &policy_b) else { return Ok(()) };
        let b = Engine::new(&policy_b, batch_b).unwrap();
        let settled_b = b.settle_with(SettleOptions::default().lines(Lines::TotalsOnly)).unwrap();
        let c = fenrun::compare(&a, &settled_a, &b, &settled_b).unwrap();
        prop_assert_eq!(c.members.len(), w.batch()["members"].as_array().unwrap().len());
        for m in &c.members {
            let ta = settled_a.total_of(&m.member).unwrap_or_default();
            let tb = settled_b.total_of(&m.member).unwrap_or_default();
            prop_assert_eq!((m.total_a, m.total_b, m.delta), (ta, tb, tb - ta));
        }
        for pair in c.members.windows(2) {
            prop_assert!(pair[0].delta.abs() >= pair[1].delta.abs());
        }
        // Each side's measures are the ones its engine gives.
        prop_assert_eq!(&c.b.stats, &b.stats(&settled_b).unwrap());
    }

    /// The Gini coefficient lies in [0, 1); the sources add up to the total
    /// paid, member by member; the top 10 % take at least the top 1 %.
    #[test]
    fn measures_are_bounded_and_add_up(w in world()) {
        let policy = Policy::from_value(w.policy()).unwrap();
        let engine = Engine::new(&policy, Batch::from_value(w.batch(), &policy).unwrap()).unwrap();
        let settled = engine.settle().unwrap();
        let stats = engine.stats(&settled).unwrap();
        if let Some(g) = stats.gini {
            prop_assert!(g >= Decimal::ZERO && g < Decimal::ONE, "gini {}", g);
        }
        if let (Some(t1), Some(t10)) = (stats.top_1_percent_share, stats.top_10_percent_share) {
            prop_assert!(t1 <= t10 && t10 <= Decimal::ONE);
        }
        let src = &stats.sources;
        prop_assert_eq!(src.own + src.team + src.pool + src.member_cap, settled.total_paid());
        let earnings = engine.earnings(&settled).unwrap();
        for row in earnings.iter() {
            prop_assert_eq!(row.own + row.team + row.pool + row.member_cap, row.total, "member {}", row.member);
        }
        // A totals-only settlement measures the same (its lines are settled again).
        let totals = engine.settle_with(SettleOptions::default().lines(Lines::TotalsOnly)).unwrap();
        prop_assert_eq!(&engine.stats(&totals).unwrap(), &stats);
    }

    /// Every member earning the same has a Gini coefficient of 0.
    #[test]
    fn equal_earnings_have_gini_zero(n in 1usize..40, cents in 1u64..1_000_000) {
        let policy = Policy::from_json(r#"{"version": 1, "ranks": [{"id": "member"}],
            "rules": [{"id": "own", "type": "levels", "rates": ["0.10"]}]}"#).unwrap();
        let amount = Decimal::new(i64::try_from(cents).unwrap(), 2).to_string();
        let members: Vec<Value> = (0..n).map(|i| json!({"id": format!("m{i}")})).collect();
        let events: Vec<Value> = (0..n).map(|i| json!({"id": format!("o{i}"), "seller": format!("m{i}"), "amount": amount})).collect();
        let batch = Batch::from_value(json!({"members": members, "events": events}), &policy).unwrap();
        let engine = Engine::new(&policy, batch).unwrap();
        let stats = engine.stats(&engine.settle().unwrap()).unwrap();
        let paid = stats.by_rank[0].total;
        if paid.is_zero() {
            prop_assert_eq!(stats.gini, None);
        } else {
            prop_assert_eq!(stats.gini, Some(Decimal::ZERO));
        }
    }
}
