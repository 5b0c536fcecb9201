//! Rank timing `immediate` (SPEC §13) against a model that follows the text
//! literally: after every event a full children-first pass over the whole
//! tree (upgrades only, every metric recomputed from the events so far), and
//! each order's differential lines walked on the ranks and activity just
//! before it. The library evaluates only what each event touched, with
//! running sums and counts; both must give the same rank changes (with
//! `after`) and the same order lines, through joins, moves, group events,
//! activity changes and refunds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

use std::collections::BTreeMap;

use fenrun::{Batch, Policy};
use proptest::prelude::*;
use serde_json::{json, Value};

const RATES: [i64; 4] = [2, 5, 8, 10];
const RANKS: [&str; 4] = ["member", "owner", "leader", "partner"];

/// The policy; `plain`: without own sales in any condition, so that an
/// order reaches ranks and activity through team sales alone; `always`:
/// without `active_if` (every member active as its input says).
fn policy(plain: bool, always: bool) -> Value {
    let mut p = json!({
        "version": 2,
        "rank_timing": "immediate",
        "evaluate_ranks": true,
        "ranks": [
            {"id": "member", "rate": "0.02"},
            {"id": "owner", "rate": "0.05", "upgrade": {"any": [
                {"metric": "sales", "gte": "50"}, {"metric": "groups", "gte": 1}]}},
            {"id": "leader", "rate": "0.08", "upgrade": {"all": [
                {"metric": "direct_referrals", "min_rank": "owner", "gte": 1},
                {"metric": "team_sales", "gte": "150"}]}},
            {"id": "partner", "rate": "0.10", "upgrade": {"all": [
                {"metric": "legs", "min_rank": "owner", "gte": 2},
                {"metric": "team_size", "gte": 3}]}}
        ],
        "active_if": {"any": [{"metric": "team_sales", "gte": "60"}, {"metric": "sales", "gte": "10"}]},
        "rules": [{"id": "spread", "type": "differential"}]
    });
    if plain {
        p["ranks"][1]["upgrade"] = json!({"metric": "groups", "gte": 1});
        p["active_if"] = json!({"metric": "team_sales", "gte": "60"});
    }
    if always {
        p.as_object_mut().unwrap().remove("active_if");
    }
    p
}

/// The state the model keeps: the literal one.
#[derive(Clone, Default)]
struct Model {
    /// [`policy`]'s `plain` and `always`.
    plain: bool,
    always: bool,
    parent: Vec<Option<usize>>,
    rank: Vec<usize>,
    active: Vec<bool>,
    /// Net sales of each member (orders minus refunds so far).
    sales: Vec<i64>,
    /// Group id → (owner, size).
    groups: BTreeMap<usize, (usize, u64)>,
}

impl Model {
    fn children(&self, m: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.parent.len()).filter(move |&c| self.parent[c] == Some(m))
    }

    fn subtree(&self, m: usize) -> Vec<usize> {
        let mut out = vec![m];
        let mut k = 0;
        while k < out.len() {
            out.extend(self.children(out[k]));
            k += 1;
        }
        out
    }

    fn depth(&self, m: usize) -> usize {
        let mut d = 0;
        let mut x = m;
        while let Some(p) = self.parent[x] {
            d += 1;
            x = p;
        }
        d
    }

    fn team_sales(&self, m: usize) -> i64 {
        self.subtree(m).iter().map(|&x| self.sales[x]).sum()
    }

    fn holds(&self, m: usize, rank: usize) -> bool {
        let direct = |min: usize| self.children(m).filter(|&c| self.rank[c] >= min).count();
        let legs = |min: usize| {
            self.children(m)
                .filter(|&c| self.subtree(c).iter().any(|&x| self.rank[x] >= min))
                .count()
        };
        let groups = self.groups.values().filter(|(o, _)| *o == m).count();
        match rank {
            1 => (!self.plain && self.sales[m] >= 5000) || groups >= 1,
            2 => direct(1) >= 1 && self.team_sales(m) >= 15000,
            3 => legs(1) >= 2 && self.subtree(m).len() > 3, // team size (the member excluded) >= 3
            _ => false,
        }
    }

    fn is_active(&self, m: usize, input: bool) -> bool {
        input
            && (self.always || self.team_sales(m) >= 6000 || (!self.plain && self.sales[m] >= 1000))
    }

    /// One children-first pass, upgrades only; the members that changed, by id.
    fn evaluate(&mut self, ids: &[String]) -> Vec<(String, usize, usize)> {
        let mut order: Vec<usize> = (0..self.parent.len()).collect();
        order.sort_by_key(|&m| std::cmp::Reverse(self.depth(m)));
        let mut changes = Vec::new();
        for m in order {
            let from = self.rank[m];
            if let Some(to) = (from + 1..4).rev().find(|&r| self.holds(m, r)) {
                self.rank[m] = to;
                changes.push((ids[m].clone(), from, to));
            }
        }
        changes.sort();
        changes
    }

    /// The differential lines of an order of `amount` cents sold by `seller`.
    fn lines(&self, seller: usize, amount: i64, input: &[bool]) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        let mut paid = 0;
        let mut x = Some(seller);
        while let Some(m) = x {
            let r = RATES[self.rank[m]];
            if self.is_active(m, input[m]) && r > paid {
                out.push((format!("m{m}"), (r - paid) * amount));
                paid = r;
            }
            x = self.parent[m];
        }
        out
    }
}

/// One step of a random stream.
#[derive(Debug, Clone)]
enum Step {
    Order(u8, u16),
    Refund(u8, u8),
    Join(u8),
    /// A member joining under the member who joined last.
    Chain,
    Move(u8, u8),
    Group(u8, u8, u16),
    Active(u8, bool),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (any::<u8>(), 1u16..120).prop_map(|(s, a)| Step::Order(s, a)),
        2 => (any::<u8>(), 1u8..4).prop_map(|(o, d)| Step::Refund(o, d)),
        2 => any::<u8>().prop_map(Step::Join),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(m, p)| Step::Move(m, p)),
        1 => (0u8..3, any::<u8>(), 0u16..300).prop_map(|(g, o, s)| Step::Group(g, o, s)),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(m, a)| Step::Active(m, a)),
    ]
}

/// Mostly members joining, a third of them each under the one before, with
/// orders and refunds: enough joins that the heavy paths are laid out anew
/// as members join (more than a quarter of those laid out, or a chain of
/// more than 32 joined members).
fn joining() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<u8>(), 1u16..120).prop_map(|(s, a)| Step::Order(s, a)),
        1 => (any::<u8>(), 1u8..4).prop_map(|(o, d)| Step::Refund(o, d)),
        4 => any::<u8>().prop_map(Step::Join),
        4 => Just(Step::Chain),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(m, p)| Step::Move(m, p)),
        1 => (0u8..3, any::<u8>(), 0u16..300).prop_map(|(g, o, s)| Step::Group(g, o, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, .. ProptestConfig::default() })]

    #[test]
    fn touched_evaluation_equals_a_full_pass_after_every_event(
        start in prop::collection::vec(any::<u8>(), 1..6),
        steps in prop::collection::vec(step(), 0..40),
        plain in any::<bool>(),
        always in any::<bool>(),
    ) {
        check(start, steps, plain, always)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn members_joining_mid_stream_are_laid_out_as_they_join(
        start in prop::collection::vec(any::<u8>(), 1..4),
        steps in prop::collection::vec(joining(), 60..200),
        plain in any::<bool>(),
        always in any::<bool>(),
    ) {
        check(start, steps, plain, always)?;
    }
}

/// The model's rank changes and order lines after `steps` from the
/// members `start`, against fenrun's settlement of the same stream.
fn check(start: Vec<u8>, steps: Vec<Step>, plain: bool, always: bool) -> Result<(), TestCaseError> {
    let mut model = Model {
        plain,
        always,
        ..Model::default()
    };
    let mut ids = Vec::new();
    let mut input = Vec::new();
    let mut members = Vec::new();
    let pick_parent = |n: usize, pick: u8| {
        if n == 0 || pick.is_multiple_of(4) {
            None
        } else {
            Some(pick as usize % n)
        }
    };
    let add =
        |model: &mut Model, ids: &mut Vec<String>, input: &mut Vec<bool>, parent: Option<usize>| {
            let n = model.parent.len();
            model.parent.push(parent);
            model.rank.push(0);
            model.active.push(true);
            model.sales.push(0);
            ids.push(format!("m{n}"));
            input.push(true);
            let mut record = json!({"id": format!("m{n}")});
            record["sponsor"] = parent.map_or(Value::Null, |p| json!(format!("m{p}")));
            record
        };
    for &pick in &start {
        let parent = pick_parent(model.parent.len(), pick);
        members.push(add(&mut model, &mut ids, &mut input, parent));
    }
    let mut changes: Vec<Value> = Vec::new();
    let report =
        |changes: &mut Vec<Value>, found: Vec<(String, usize, usize)>, after: Option<&str>| {
            for (m, from, to) in found {
                let mut c = json!({"member": m, "from": RANKS[from], "to": RANKS[to]});
                if let Some(a) = after {
                    c["after"] = json!(a);
                }
                changes.push(c);
            }
        };
    let found = model.evaluate(&ids);
    report(&mut changes, found, None);
    let mut events = Vec::new();
    let mut lines = Vec::new();
    // Orders so far: (id, seller, amount, refunded).
    let mut orders: Vec<(String, usize, i64, i64)> = Vec::new();
    for (k, s) in steps.into_iter().enumerate() {
        let id = format!("e{k}");
        let n = model.parent.len();
        let event = match s {
            Step::Order(seller, amount) => {
                let seller = seller as usize % n;
                let cents = i64::from(amount) * 100;
                for (m, x) in model.lines(seller, cents, &input) {
                    lines.push((id.clone(), m, x));
                }
                model.sales[seller] += cents;
                orders.push((id.clone(), seller, cents, 0));
                json!({"id": id, "seller": format!("m{seller}"), "amount": format!("{amount}.00")})
            }
            Step::Refund(o, d) => {
                if orders.is_empty() {
                    continue;
                }
                let o = o as usize % orders.len();
                let (order, seller, amount, refunded) = orders[o].clone();
                let x = (amount / 100 / i64::from(d)) * 100;
                if x == 0 || refunded + x > amount {
                    continue;
                }
                orders[o].3 += x;
                model.sales[seller] -= x;
                json!({"id": id, "refund_of": order, "amount": format!("{}.00", x / 100)})
            }
            Step::Join(pick) => {
                let record = add(&mut model, &mut ids, &mut input, pick_parent(n, pick));
                json!({"id": id, "member": record})
            }
            Step::Chain => {
                let record = add(&mut model, &mut ids, &mut input, Some(n - 1));
                json!({"id": id, "member": record})
            }
            Step::Move(m, p) => {
                let m = m as usize % n;
                let to = if p.is_multiple_of(5) {
                    None
                } else {
                    Some(p as usize % n)
                };
                if to.is_some_and(|t| model.subtree(m).contains(&t)) || to == model.parent[m] {
                    continue;
                }
                model.parent[m] = to;
                let sponsor = to.map_or(Value::Null, |t| json!(format!("m{t}")));
                json!({"id": id, "member": {"id": format!("m{m}"), "sponsor": sponsor}})
            }
            Step::Group(g, owner, size) => {
                let owner = owner as usize % n;
                model.groups.insert(g as usize, (owner, u64::from(size)));
                json!({"id": id, "group": {"id": format!("g{g}"), "owner": format!("m{owner}"), "size": size}})
            }
            Step::Active(m, a) => {
                let m = m as usize % n;
                input[m] = a;
                json!({"id": id, "member": {"id": format!("m{m}"), "active": a}})
            }
        };
        events.push(event);
        let found = model.evaluate(&ids);
        report(&mut changes, found, Some(&id));
    }
    let written = policy(plain, always);
    let policy = Policy::from_value(written.clone()).unwrap();
    let doc = json!({"members": members, "events": events});
    // A rule reading a metric as each order is settled makes settling
    // replay the period; without one, settling walks what ranking the
    // period recorded. A step that always holds (team sales are never
    // below 0) pays what a flat rate does: both ways give the same bytes.
    let settle_with = |rate: Value| {
        let mut p = written.clone();
        p["rules"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "lv", "type": "levels", "rates": [rate]}));
        let p = Policy::from_value(p).unwrap();
        fenrun::settle(&p, Batch::from_value(doc.clone(), &p).unwrap())
            .unwrap()
            .to_json()
    };
    let replayed = settle_with(json!({"metric": "team_sales", "steps": [["0", "0.03"]]}));
    prop_assert_eq!(replayed, settle_with(json!("0.03")));
    let batch = Batch::from_value(doc.clone(), &policy).unwrap();
    let settled: Value =
        serde_json::from_str(&fenrun::settle(&policy, batch).unwrap().to_json()).unwrap();
    // §14 guarantee 4: each event applied to a ledger answers with the
    // lines the settlement gives it (every line here is an order's).
    let mut ledger =
        fenrun::Ledger::open_value(&policy, json!({"members": doc["members"]})).unwrap();
    let mut answered = Vec::new();
    for e in doc["events"].as_array().unwrap() {
        let lines = ledger.apply_value(e.clone()).unwrap().lines.unwrap().json();
        answered.extend(
            lines
                .iter()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    prop_assert_eq!(&Value::Array(answered), &settled["lines"]);
    // The ledger's totals, finished from the state it keeps, are the batch's.
    let totals = fenrun::SettleOptions::default().lines(fenrun::Lines::TotalsOnly);
    let batch = Batch::from_value(doc.clone(), &policy).unwrap();
    prop_assert_eq!(
        ledger.settlement_with(totals.clone()).unwrap().to_json(),
        fenrun::Engine::new(&policy, batch)
            .unwrap()
            .settle_with(totals)
            .unwrap()
            .to_json()
    );
    let got: Vec<Value> = settled["rank_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.as_object_mut().unwrap().remove("because");
            c
        })
        .collect();
    prop_assert_eq!(got, changes);
    let got: Vec<(String, String, i64)> = settled["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l.get("refund").is_none())
        .map(|l| {
            let amount = l["amount"].as_str().unwrap().replace('.', "");
            (
                l["order"].as_str().unwrap().to_owned(),
                l["beneficiary"].as_str().unwrap().to_owned(),
                amount.parse::<i64>().unwrap(),
            )
        })
        .collect();
    // The model's amounts are in cents x 100 (rates in hundredths).
    let want: Vec<(String, String, i64)> =
        lines.into_iter().map(|(o, m, x)| (o, m, x / 100)).collect();
    prop_assert_eq!(got, want);
    Ok(())
}

/// A chain of 40 members joining one under another below one of 200
/// starting members: past 32 of them the tree is laid out anew (a chain
/// crossing more than 32 appended paths), with the team sales it had.
/// Leader (10 %) at team sales of 120.00; member 2 %.
///
/// - o1, m0 sells 50.00: m0 is paid 2 % = 1.00; m0's team sales 50.00.
/// - c1 … c40 join, c1 under m0, each next under the one before.
/// - o2, c40 sells 100.00: c40 is paid 2.00 (no one above is paid more
///   than 2 %); then m0's team sales are 150.00 ≥ 120.00: m0 becomes
///   leader after o2; c1 … c40 have 100.00, below 120.00.
/// - o3, c40 sells 100.00: c40 2.00, m0 (10 % − 2 %) × 100.00 = 8.00; then
///   c1 … c40 have 200.00: all forty become leader after o3.
///
/// Totals: m0 1.00 + 8.00 = 9.00, c40 2.00 + 2.00 = 4.00.
#[test]
fn a_long_chain_of_joins_is_laid_out_anew_with_its_team_sales() {
    let policy = Policy::from_value(json!({
        "version": 2, "rank_timing": "immediate", "evaluate_ranks": true,
        "ranks": [{"id": "member", "rate": "0.02"},
                  {"id": "leader", "rate": "0.10", "upgrade": {"metric": "team_sales", "gte": "120"}}],
        "rules": [{"id": "spread", "type": "differential"}]
    }))
    .unwrap();
    let members: Vec<Value> = (0..200).map(|m| json!({"id": format!("m{m}")})).collect();
    let mut events = vec![json!({"id": "o1", "seller": "m0", "amount": "50.00"})];
    for k in 1..=40 {
        let sponsor = if k == 1 {
            "m0".to_owned()
        } else {
            format!("c{}", k - 1)
        };
        events.push(
            json!({"id": format!("j{k}"), "member": {"id": format!("c{k}"), "sponsor": sponsor}}),
        );
    }
    events.push(json!({"id": "o2", "seller": "c40", "amount": "100.00"}));
    events.push(json!({"id": "o3", "seller": "c40", "amount": "100.00"}));
    let batch = Batch::from_value(json!({"members": members, "events": events}), &policy).unwrap();
    let s: Value =
        serde_json::from_str(&fenrun::settle(&policy, batch).unwrap().to_json()).unwrap();
    let after = |id: &str| {
        let changes = s["rank_changes"].as_array().unwrap();
        let mut who: Vec<String> = changes
            .iter()
            .filter(|c| c["after"] == id && c["to"] == "leader")
            .map(|c| c["member"].as_str().unwrap().to_owned())
            .collect();
        who.sort();
        who
    };
    assert_eq!(after("o2"), ["m0"]);
    let mut chain: Vec<String> = (1..=40).map(|k| format!("c{k}")).collect();
    chain.sort();
    assert_eq!(after("o3"), chain);
    assert_eq!(s["rank_changes"].as_array().unwrap().len(), 41);
    let o3: Vec<(&str, &str)> = s["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["order"] == "o3")
        .map(|l| {
            (
                l["beneficiary"].as_str().unwrap(),
                l["amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(o3, [("c40", "2.00"), ("m0", "8.00")]);
    let total = |m: &str| s["totals"][m].as_str().unwrap().to_owned();
    assert_eq!(
        (total("m0"), total("c40")),
        ("9.00".to_owned(), "4.00".to_owned())
    );
}
