//! Property tests for the invariants of SPEC §10 and the rank evaluation of §4,
//! over random forests, ladders, policies and event streams.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

use std::collections::BTreeMap;

use fenrun::{Batch, Engine, Policy};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

const RANKS: [&str; 4] = ["member", "group_owner", "team_leader", "partner"];

/// A random batch description: everything as small integers, turned into JSON below.
#[derive(Debug, Clone)]
struct World {
    /// Per member: (sponsor choice, input rank, active, attr).
    members: Vec<(u32, u8, bool, u8)>,
    /// (owner choice, size).
    groups: Vec<(u32, u16)>,
    /// (seller choice, cents, refund plan: number of partial refunds 0..=3, full?).
    orders: Vec<(u32, u32, u8, bool)>,
    /// Order in which members are listed (a permutation seed).
    shuffle: u64,
    /// Policy knobs.
    knobs: (u8, bool, u8, u8, bool, u8),
}

fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::vec(
            (any::<u32>(), 0u8..4, prop::bool::weighted(0.85), 0u8..10),
            1..25,
        ),
        prop::collection::vec((any::<u32>(), 0u16..250), 0..12),
        prop::collection::vec(
            (any::<u32>(), 1u32..2_000_000, 0u8..4, any::<bool>()),
            0..25,
        ),
        any::<u64>(),
        (0u8..8, any::<bool>(), 0u8..4, 1u8..4, any::<bool>(), 0u8..5),
    )
        .prop_map(|(members, groups, orders, shuffle, knobs)| World {
            members,
            groups,
            orders,
            shuffle,
            knobs,
        })
}

fn id(i: usize) -> String {
    format!("m{i:02}")
}

fn cents(c: u64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// A deterministic permutation from a seed (Fisher–Yates with an LCG).
fn permute<T>(items: &mut [T], seed: u64) {
    let mut s = seed | 1;
    for i in (1..items.len()).rev() {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (s >> 33) as usize % (i + 1);
        items.swap(i, j);
    }
}

impl World {
    fn sponsor(&self, i: usize) -> Option<usize> {
        let (choice, ..) = self.members[i];
        // Member i's sponsor is an earlier member (acyclic by construction), or none.
        if i == 0 || choice % 5 == 0 {
            None
        } else {
            Some(choice as usize % i)
        }
    }

    fn policy(&self) -> Value {
        let (levels, compress, min_rank, gens, same_or_higher, cap) = self.knobs;
        let rates = [
            "0.10", "0.05", "0.02", "0.015", "0", "0.03", "0.01", "0.005",
        ];
        let rates = &rates[..(levels as usize % 4) + 1];
        let mut rules = vec![
            json!({"id": "dist", "type": "levels", "rates": rates,
                   "compress": compress, "min_rank": RANKS[min_rank as usize % 3]}),
            json!({"id": "spread", "type": "differential"}),
            json!({"id": "peer", "type": "peer", "rate": "0.01", "generations": gens,
                   "match": if same_or_higher { "same_or_higher" } else { "same" },
                   "min_rank": "group_owner"}),
            json!({"id": "dividend", "type": "pool", "rate": "0.02", "min_rank": "team_leader",
                   "split": if levels % 2 == 0 { json!("equal") } else { json!({"weighted_by": "team_sales"}) }}),
        ];
        if levels >= 6 {
            rules.swap(0, 1);
        }
        let mode = ["half_up", "half_even", "down"][levels as usize % 3];
        let mut p = json!({
            "version": 1,
            "evaluate_ranks": levels % 3 != 0,
            "rounding": {"scale": 2, "mode": mode},
            "ranks": [
                {"id": "member"},
                {"id": "group_owner", "rate": "0.10", "upgrade": {"metric": "largest_group", "gte": 100}},
                {"id": "team_leader", "rate": "0.15", "upgrade": {"any": [
                    {"all": [{"metric": "groups", "min_size": 50, "gte": 2}, {"metric": "team_sales", "gte": "5000"}]},
                    {"metric": "direct_referrals", "min_rank": "group_owner", "gte": 2}]}},
                {"id": "partner", "rate": "0.20", "upgrade": {"all": [
                    {"metric": "legs", "min_rank": "team_leader", "gte": 2},
                    {"not": {"metric": "team_size", "lt": 3}},
                    {"metric": "attr", "name": "score", "gte": 2}]}}
            ],
            "rules": rules,
        });
        if cap > 0 {
            let caps = ["0.30", "0.12", "0.05", "0.25"];
            p["order_cap"] = json!(caps[cap as usize % 4]);
        }
        if levels % 4 == 1 {
            p["active_if"] = json!({"any": [{"metric": "sales", "gte": "1"}, {"metric": "purchases", "gte": "1"}, {"metric": "team_size", "gte": 1}]});
        }
        p
    }

    /// The batch, members listed in the order `perm` gives, groups likewise.
    fn batch_with(&self, shuffle: u64) -> Value {
        let n = self.members.len();
        let mut members: Vec<Value> = (0..n)
            .map(|i| {
                let (_, rank, active, attr) = self.members[i];
                let mut m = json!({"id": id(i), "rank": RANKS[rank as usize % 2], "active": active,
                                   "attrs": {"score": attr}});
                if let Some(s) = self.sponsor(i) {
                    m["sponsor"] = json!(id(s));
                }
                m
            })
            .collect();
        permute(&mut members, shuffle);
        let mut groups: Vec<Value> = self
            .groups
            .iter()
            .enumerate()
            .map(|(g, (owner, size))| json!({"id": format!("g{g}"), "owner": id(*owner as usize % n), "size": size}))
            .collect();
        permute(&mut groups, shuffle.rotate_left(17));
        json!({"members": members, "groups": groups, "events": self.events()})
    }

    fn events(&self) -> Vec<Value> {
        let n = self.members.len();
        let mut events = Vec::new();
        for (k, (seller, c, partials, full)) in self.orders.iter().enumerate() {
            let amount = u64::from(*c);
            events.push(json!({"id": format!("o{k}"), "seller": id(*seller as usize % n),
                               "buyer": if k % 3 == 0 { id((*seller as usize / 7) % n) } else { format!("c{k}") },
                               "amount": cents(amount)}));
            // Partial refunds of 1/7 each (rounded down to the cent), then maybe the rest.
            let mut left = amount;
            for j in 0..*partials {
                let part = amount / 7;
                if part == 0 {
                    break;
                }
                left -= part;
                events.push(json!({"id": format!("r{k}-{j}"), "refund_of": format!("o{k}"), "amount": cents(part)}));
            }
            if *full && left > 0 {
                events.push(json!({"id": format!("r{k}-x"), "refund_of": format!("o{k}"), "amount": cents(left)}));
            }
        }
        events
    }

    fn batch(&self) -> Value {
        self.batch_with(0)
    }
}

fn settle_doc(policy: &Value, batch: &Value) -> String {
    fenrun::settle_json(&policy.to_string(), &batch.to_string()).expect("valid world settles")
}

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .expect("decimal string")
        .parse()
        .expect("decimal")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// §10.1: same bytes whatever the order of members and groups.
    #[test]
    fn deterministic_under_shuffles(w in world(), other in any::<u64>()) {
        let p = w.policy();
        prop_assert_eq!(settle_doc(&p, &w.batch_with(w.shuffle)), settle_doc(&p, &w.batch_with(other)));
    }

    /// §10.2–§10.4: pools sum exactly; fully refunded orders net to zero per member;
    /// order lines within the cap; beneficiaries are members; totals and summary add up.
    #[test]
    fn settlement_invariants(w in world()) {
        let p = w.policy();
        let b = w.batch();
        let doc: Value = serde_json::from_str(&settle_doc(&p, &b)).unwrap();
        let lines = doc["lines"].as_array().unwrap();
        let members: Vec<String> = (0..w.members.len()).map(id).collect();
        let mut per_order: BTreeMap<(String, String), Decimal> = BTreeMap::new();
        let mut original: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut pool_sum = Decimal::ZERO;
        let mut pool_base = None;
        let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
        for l in lines {
            let ben = l["beneficiary"].as_str().unwrap().to_owned();
            prop_assert!(members.contains(&ben), "{} is not a member", ben);
            let amount = dec(&l["amount"]);
            prop_assert!(!amount.is_zero(), "zero line written");
            *totals.entry(ben.clone()).or_default() += amount;
            match l.get("order") {
                Some(order) => {
                    let order = order.as_str().unwrap().to_owned();
                    *per_order.entry((order.clone(), ben)).or_default() += amount;
                    if l.get("refund").is_none() {
                        *original.entry(order).or_default() += amount;
                    }
                }
                None => {
                    pool_sum += amount;
                    pool_base = Some(dec(&l["base"]));
                }
            }
        }
        if let Some(base) = pool_base {
            prop_assert_eq!(pool_sum, base, "pool shares must sum to the pool");
        }
        let events = w.events();
        let mut refunded: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut amounts: BTreeMap<String, Decimal> = BTreeMap::new();
        for e in &events {
            match e.get("refund_of") {
                Some(of) => *refunded.entry(of.as_str().unwrap().to_owned()).or_default() += dec(&e["amount"]),
                None => { amounts.insert(e["id"].as_str().unwrap().to_owned(), dec(&e["amount"])); }
            }
        }
        for ((order, ben), net) in &per_order {
            if refunded.get(order) == amounts.get(order) {
                prop_assert!(net.is_zero(), "fully refunded {} leaves {} to {}", order, net, ben);
            }
        }
        if let Some(cap) = p.get("order_cap") {
            let cap: Decimal = dec(cap);
            for (order, paid) in &original {
                use rust_decimal::RoundingStrategy::*;
                let strategy = match p["rounding"]["mode"].as_str().unwrap() {
                    "half_up" => MidpointAwayFromZero,
                    "half_even" => MidpointNearestEven,
                    _ => ToZero,
                };
                let limit = (cap * amounts[order]).round_dp_with_strategy(2, strategy);
                prop_assert!(*paid <= limit, "order {} pays {} over cap {}", order, paid, limit);
            }
        }
        let doc_totals = doc["totals"].as_object().unwrap();
        prop_assert_eq!(doc_totals.len(), totals.len());
        let mut sum = Decimal::ZERO;
        for (m, t) in &totals {
            prop_assert_eq!(dec(&doc_totals[m]), *t);
            sum += t;
        }
        prop_assert_eq!(dec(&doc["summary"]["total_paid"]), sum);
    }

    /// §10.6: settling the orders in parts (each refund with its order) and merging
    /// gives the whole batch's lines; pools are then added from merged net sales.
    #[test]
    fn split_and_merge(w in world(), parts in 1usize..5) {
        let policy = Policy::from_value(w.policy()).unwrap();
        let batch = Batch::from_value(w.batch(), &policy).unwrap();
        let engine = Engine::new(&policy, &batch).unwrap();
        let whole = engine.settle().unwrap().to_json();
        // Contiguous parts of the event list, refunds following their order.
        let n = batch.event_count();
        let cut = |k: usize| k * n / parts;
        let mut merged = fenrun::Part::default();
        for k in 0..parts {
            let part = engine.settle_part(|i| i >= cut(k) && i < cut(k + 1)).unwrap();
            merged = merged.merge(part).unwrap();
        }
        prop_assert_eq!(engine.finish(merged).unwrap().to_json(), whole.clone());
        // Interleaved parts (by order index parity) hold the same lines, in another order.
        let a = engine.settle_part(|i| i % 2 == 0).unwrap();
        let b = engine.settle_part(|i| i % 2 == 1).unwrap();
        let mixed: Value = serde_json::from_str(&engine.finish(a.merge(b).unwrap()).unwrap().to_json()).unwrap();
        let whole: Value = serde_json::from_str(&whole).unwrap();
        let key = |v: &Value| { let mut l: Vec<String> = v["lines"].as_array().unwrap().iter().map(|x| x.to_string()).collect(); l.sort(); l };
        prop_assert_eq!(key(&mixed), key(&whole));
        prop_assert_eq!(&mixed["totals"], &whole["totals"]);
        prop_assert_eq!(&mixed["summary"], &whole["summary"]);
    }

    /// §4: evaluation never lowers a rank, and equals a naive reference evaluator.
    #[test]
    fn ranks_match_naive_reference(w in world()) {
        let mut pv = w.policy();
        pv["evaluate_ranks"] = json!(true);
        let policy = Policy::from_value(pv).unwrap();
        let batch = Batch::from_value(w.batch(), &policy).unwrap();
        let engine = Engine::new(&policy, &batch).unwrap();
        let expected = naive_ranks(&w);
        for (i, want) in expected.iter().enumerate() {
            let got = engine.rank_of(&id(i)).unwrap();
            prop_assert_eq!(got, RANKS[*want], "member {}", id(i));
            let input = w.members[i].1 as usize % 2;
            prop_assert!(*want >= input, "rank lowered");
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
    let mut sales = vec![Decimal::ZERO; n];
    for e in w.events() {
        let amount = dec(&e["amount"]);
        match e.get("refund_of") {
            None => sales[e["seller"].as_str().unwrap()[1..].parse::<usize>().unwrap()] += amount,
            Some(of) => {
                let order = w.events().into_iter().find(|x| x["id"] == *of).unwrap();
                sales[order["seller"].as_str().unwrap()[1..]
                    .parse::<usize>()
                    .unwrap()] -= amount;
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
        let reached = if partner {
            3
        } else if tl {
            2
        } else if go {
            1
        } else {
            0
        };
        rank[m] = rank[m].max(reached);
    }
    rank
}
