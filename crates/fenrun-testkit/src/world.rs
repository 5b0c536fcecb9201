//! Random worlds (forest, ladder, policy, event stream) for property tests and
//! fuzzing, and the invariants of SPEC §10 checked on any of them.

// serde_json's `value[key]` reads give Null for a missing key and writes go to
// objects this module built itself: indexing cannot panic here.
#![allow(clippy::indexing_slicing)]

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use fenrun::{Batch, Engine, Lines, Policy, SettleOptions};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Value};

/// The ladder every world uses.
pub const RANKS: [&str; 4] = ["member", "group_owner", "team_leader", "partner"];

/// A random world, all small integers; [`World::policy`] and [`World::batch`] turn it into JSON.
#[derive(Debug, Clone)]
pub struct World {
    /// Per member: (sponsor choice, input rank, active, `score` attribute). Never empty.
    pub members: Vec<(u32, u8, bool, u8)>,
    /// Per group: (owner choice, size).
    pub groups: Vec<(u32, u16)>,
    /// Per order: (seller choice, cents, partial refunds 0..=3, refund the rest?).
    pub orders: Vec<(u32, u64, u8, bool)>,
    /// Seed of the order members and groups are listed in.
    pub shuffle: u64,
    /// Policy knobs: (levels shape, compress, min_rank, generations, same_or_higher, cap).
    pub knobs: (u8, bool, u8, u8, bool, u8),
    /// Version-2 features, one bit each ([`v2`]); 0 is a version-1 world.
    pub v2: u8,
}

/// The bits of [`World::v2`]: which version-2 features (SPEC §12) a world uses.
pub mod v2 {
    /// Orders carry categories (some the policy does not name, some none).
    pub const CATEGORIES: u8 = 1;
    /// `by_category` on levels, peer and differential.
    pub const BY_CATEGORY: u8 = 1 << 1;
    /// Step tables on levels and peer.
    pub const STEPS: u8 = 1 << 2;
    /// Fixed amounts on levels.
    pub const FIXED: u8 = 1 << 3;
    /// A member cap.
    pub const MEMBER_CAP: u8 = 1 << 4;
    /// `retain` on group_owner (largest_group ≥ 50).
    pub const RETAIN: u8 = 1 << 5;
    /// `order_cap_by_category`.
    pub const CATEGORY_CAP: u8 = 1 << 6;
}

/// The categories a world's orders carry: the policy names the first three.
pub const CATEGORIES: [&str; 4] = ["fresh", "beauty", "gift", "toys"];

impl<'a> Arbitrary<'a> for World {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.int_in_range(1..=40)?;
        let mut members = Vec::with_capacity(n);
        for _ in 0..n {
            members.push((
                u32::arbitrary(u)?,
                u.int_in_range(0..=3)?,
                u.ratio(9, 10)?,
                u.int_in_range(0..=9)?,
            ));
        }
        let mut groups = Vec::new();
        for _ in 0..u.int_in_range(0..=12)? {
            groups.push((u32::arbitrary(u)?, u.int_in_range(0..=250)?));
        }
        let mut orders = Vec::new();
        for _ in 0..u.int_in_range(0..=30)? {
            // Mostly ordinary amounts, sometimes near the top of the exact decimal range.
            let cents = if u.ratio(1, 20)? {
                u64::arbitrary(u)?
            } else {
                u.int_in_range(1..=2_000_000)?
            };
            orders.push((
                u32::arbitrary(u)?,
                cents.max(1),
                u.int_in_range(0..=3)?,
                bool::arbitrary(u)?,
            ));
        }
        Ok(World {
            members,
            groups,
            orders,
            v2: if u.ratio(1, 2)? { 0 } else { u8::arbitrary(u)? },
            shuffle: u64::arbitrary(u)?,
            knobs: (
                u.int_in_range(0..=7)?,
                bool::arbitrary(u)?,
                u.int_in_range(0..=3)?,
                u.int_in_range(1..=3)?,
                bool::arbitrary(u)?,
                u.int_in_range(0..=4)?,
            ),
        })
    }
}

/// The member id of index `i`.
pub fn member_id(i: usize) -> String {
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
    /// Number of members (at least 1).
    pub fn len(&self) -> usize {
        self.members.len().max(1)
    }

    /// Never true: a world has at least one member.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Member `i`'s sponsor: an earlier member (acyclic by construction), or none.
    pub fn sponsor(&self, i: usize) -> Option<usize> {
        let choice = self.members.get(i).map_or(0, |m| m.0);
        if i == 0 || choice.is_multiple_of(5) {
            None
        } else {
            Some(choice as usize % i)
        }
    }

    /// The policy document.
    pub fn policy(&self) -> Value {
        let (levels, compress, min_rank, gens, same_or_higher, cap) = self.knobs;
        let rates = [
            "0.10", "0.05", "0.02", "0.015", "0", "0.03", "0.01", "0.005",
        ];
        let rates = rates.get(..(levels as usize % 4) + 1).unwrap_or_default();
        let split = if levels % 2 == 0 {
            json!("equal")
        } else {
            json!({"weighted_by": "team_sales"})
        };
        let mut rules = vec![
            json!({"id": "dist", "type": "levels", "rates": rates, "compress": compress,
                   "min_rank": RANKS.get(min_rank as usize % 3).copied().unwrap_or("member")}),
            json!({"id": "spread", "type": "differential"}),
            json!({"id": "peer", "type": "peer", "rate": "0.01", "generations": gens,
                   "match": if same_or_higher { "same_or_higher" } else { "same" },
                   "min_rank": "group_owner"}),
            json!({"id": "dividend", "type": "pool", "rate": "0.02", "min_rank": "team_leader", "split": split}),
        ];
        if levels >= 6 {
            rules.swap(0, 1);
        }
        let mode = ["half_up", "half_even", "down"]
            .get(levels as usize % 3)
            .copied()
            .unwrap_or("half_up");
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
            p["order_cap"] = json!(caps.get(cap as usize % 4).copied().unwrap_or("0.30"));
        }
        if levels % 4 == 1 {
            p["active_if"] = json!({"any": [{"metric": "sales", "gte": "1"}, {"metric": "purchases", "gte": "1"}, {"metric": "team_size", "gte": 1}]});
        }
        self.version_2(&mut p);
        p
    }

    /// The version-2 features of [`World::v2`] added to policy `p`.
    fn version_2(&self, p: &mut Value) {
        let bits = self.v2;
        if bits == 0 {
            return;
        }
        p["version"] = json!(2);
        let has = |b: u8| bits & b != 0;
        let rules = p["rules"]
            .as_array_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        let rules: Vec<Value> = rules
            .into_iter()
            .map(|mut r| {
                match r["type"].as_str() {
                    Some("levels") => {
                        if let Some(rates) = r["rates"].as_array_mut() {
                            if has(v2::FIXED) {
                                if let Some(first) = rates.first_mut() {
                                    *first = json!({"fixed": "3.00"});
                                }
                            }
                            if has(v2::STEPS) && rates.len() > 1 {
                                rates[1] = json!({"metric": "direct_referrals", "steps": [["0", "0.05"], ["2", "0.07"], ["3", {"fixed": "1.50"}]]});
                            }
                        }
                        if has(v2::BY_CATEGORY) {
                            r["by_category"] = json!({"fresh": {"rates": ["0.03"]},
                                "beauty": {"rates": ["0.20", {"metric": "team_size", "steps": [["1", "0.10"], ["4", "0.12"]]}, "0.05"]},
                                "gift": {"rates": ["0", "0"]}});
                        }
                    }
                    Some("peer") => {
                        if has(v2::STEPS) {
                            r["rate"] = json!({"metric": "sales", "steps": [["0", "0.01"], ["1000", "0.02"]]});
                        }
                        if has(v2::BY_CATEGORY) {
                            r["by_category"] = json!({"fresh": {"rate": {"fixed": "0.50"}}});
                        }
                    }
                    Some("differential") if has(v2::BY_CATEGORY) => {
                        r["by_category"] = json!({"beauty": {"rank_rates": {"member": "0.02",
                            "group_owner": "0.20", "team_leader": "0.25", "partner": "0.30"}}});
                    }
                    _ => {}
                }
                r
            })
            .collect();
        p["rules"] = json!(rules);
        if has(v2::MEMBER_CAP) {
            p["member_cap"] = json!({"amount": "50.00"});
        }
        if has(v2::RETAIN) {
            p["ranks"][1]["retain"] = json!({"metric": "largest_group", "gte": 50});
        }
        if has(v2::CATEGORY_CAP) {
            p["order_cap_by_category"] = json!({"fresh": "0.05", "beauty": "0.40"});
        }
    }

    /// The category of order `k`, when the world's orders carry them.
    pub fn category(&self, k: usize) -> Option<&'static str> {
        if self.v2 & v2::CATEGORIES == 0 || k % 5 == 4 {
            return None;
        }
        CATEGORIES.get(k % 4).copied()
    }

    /// The batch, members and groups listed in an order given by `shuffle`.
    pub fn batch_with(&self, shuffle: u64) -> Value {
        self.listed(Some(shuffle), shuffle)
    }

    /// The batch with its members listed sponsors first (in index order: a
    /// member's sponsor has a smaller index), as exports by join date are;
    /// groups in an order given by `shuffle`.
    pub fn batch_sponsors_first(&self, shuffle: u64) -> Value {
        self.listed(None, shuffle)
    }

    /// Members shuffled by `members_shuffle` (`None`: in index order),
    /// groups by `groups_shuffle`.
    fn listed(&self, members_shuffle: Option<u64>, groups_shuffle: u64) -> Value {
        let n = self.len();
        let mut members: Vec<Value> = (0..n)
            .map(|i| {
                let (_, rank, active, attr) = self.members.get(i).copied().unwrap_or_default();
                let mut m = json!({"id": member_id(i), "rank": RANKS.get(rank as usize % 2).copied().unwrap_or("member"),
                                   "active": active, "attrs": {"score": attr}});
                if let Some(s) = self.sponsor(i) {
                    m["sponsor"] = json!(member_id(s));
                }
                m
            })
            .collect();
        if let Some(shuffle) = members_shuffle {
            permute(&mut members, shuffle);
        }
        let mut groups: Vec<Value> = self
            .groups
            .iter()
            .enumerate()
            .map(|(g, (owner, size))| json!({"id": format!("g{g}"), "owner": member_id(*owner as usize % n), "size": size}))
            .collect();
        permute(&mut groups, groups_shuffle.rotate_left(17));
        json!({"members": members, "groups": groups, "events": self.events()})
    }

    /// The batch in its own shuffle.
    pub fn batch(&self) -> Value {
        self.batch_with(self.shuffle)
    }

    /// Orders, each followed by its partial refunds of 1/7 and maybe the rest.
    pub fn events(&self) -> Vec<Value> {
        let n = self.len();
        let mut events = Vec::new();
        for (k, (seller, c, partials, full)) in self.orders.iter().enumerate() {
            // With fixed amounts, orders of a few units, so that a fixed
            // amount is often above the order's and clamped (§12.2).
            let amount = if self.v2 & v2::FIXED != 0 {
                c % 1000 + 1
            } else {
                *c
            };
            let buyer = if k % 3 == 0 {
                member_id((*seller as usize / 7) % n)
            } else {
                format!("c{k}")
            };
            let mut order = json!({"id": format!("o{k}"), "seller": member_id(*seller as usize % n),
                               "buyer": buyer, "amount": cents(amount)});
            if let Some(c) = self.category(k) {
                order["category"] = json!(c);
            }
            events.push(order);
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
}

fn dec(v: &Value) -> Result<Decimal, String> {
    v.as_str()
        .ok_or_else(|| format!("{v} is not a decimal string"))?
        .parse()
        .map_err(|e| format!("{v}: {e}"))
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Settle `w` and check SPEC §10.1–§10.4 on the output. A world whose amounts leave
/// the exact decimal range must fail with `arithmetic_overflow`, never panic.
pub fn check_invariants(w: &World) -> Result<(), String> {
    let p = w.policy().to_string();
    let first = fenrun::settle_json(&p, &w.batch().to_string());
    let out = match first {
        Ok(out) => out,
        Err(e) if e.code() == "arithmetic_overflow" => return Ok(()),
        Err(e) => return Err(format!("valid world refused: {e}")),
    };
    // §10.1: same bytes whatever the order of members and groups.
    let other = fenrun::settle_json(
        &p,
        &w.batch_with(w.shuffle.rotate_left(29) ^ 0x9e37).to_string(),
    )
    .map_err(|e| e.to_string())?;
    ensure!(
        other == out,
        "output depends on the order of members or groups"
    );
    // Members listed sponsors first take another path to the same forest.
    let first = fenrun::settle_json(&p, &w.batch_sponsors_first(w.shuffle).to_string())
        .map_err(|e| e.to_string())?;
    ensure!(
        first == out,
        "output differs when members are listed sponsors first"
    );

    let doc: Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
    let members: Vec<String> = (0..w.len()).map(member_id).collect();
    let mut per_order: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    let mut original: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut pool_sum: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    let mut capped: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
    for l in doc["lines"].as_array().ok_or("no lines")? {
        let ben = l["beneficiary"]
            .as_str()
            .ok_or("no beneficiary")?
            .to_owned();
        ensure!(members.contains(&ben), "{ben} is not a member");
        let amount = dec(&l["amount"])?;
        ensure!(!amount.is_zero(), "a zero line was written");
        *totals.entry(ben.clone()).or_default() += amount;
        match l.get("order").and_then(Value::as_str) {
            Some(order) => {
                *per_order.entry((order.to_owned(), ben)).or_default() += amount;
                if l.get("refund").is_none() {
                    *original.entry(order.to_owned()).or_default() += amount;
                }
            }
            None if l["kind"] == "member_cap" => {
                let base = dec(&l["base"])?;
                ensure!(
                    capped.insert(ben.clone(), (base, amount)).is_none(),
                    "two member-cap lines for {ben}"
                );
            }
            None => {
                let rule = l["rule"].as_str().unwrap_or_default().to_owned();
                let e = pool_sum.entry(rule).or_default();
                e.0 += amount;
                e.1 = dec(&l["base"])?;
            }
        }
    }
    // §12.3: a member-cap line takes a member's order-rule net down to the
    // cap exactly; a member at or under the cap has none.
    let policy = w.policy();
    if let Some(cap) = policy.get("member_cap") {
        let cap = dec(&cap["amount"])?;
        let mut net: BTreeMap<&str, Decimal> = BTreeMap::new();
        for ((_, ben), amount) in &per_order {
            *net.entry(ben).or_default() += amount;
        }
        for (ben, t) in &net {
            match capped.get(*ben) {
                Some((base, amount)) => {
                    ensure!(base == t, "member cap of {ben} on {base}, its net is {t}");
                    ensure!(
                        *t + *amount == cap,
                        "{ben} capped at {} not {cap}",
                        *t + *amount
                    );
                }
                None => ensure!(*t <= cap, "{ben} nets {t} over the cap {cap}"),
            }
        }
        let cut: Decimal = capped.values().map(|(_, a)| -*a).sum();
        ensure!(
            dec(&doc["summary"]["member_cap_cut"])? == cut,
            "member_cap_cut is not the sum of the member-cap lines"
        );
    } else {
        ensure!(capped.is_empty(), "member-cap lines without a member cap");
    }
    // §10.2: pool shares sum to the pool.
    for (rule, (sum, base)) in &pool_sum {
        ensure!(sum == base, "pool {rule} pays {sum} of {base}");
    }
    // §10.2: a fully refunded order nets to zero for every member.
    let mut refunded: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut amounts: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut category: BTreeMap<String, String> = BTreeMap::new();
    for e in w.events() {
        let id = e["id"].as_str().unwrap_or_default().to_owned();
        match e.get("refund_of").and_then(Value::as_str) {
            Some(of) => *refunded.entry(of.to_owned()).or_default() += dec(&e["amount"])?,
            None => {
                amounts.insert(id.clone(), dec(&e["amount"])?);
                if let Some(c) = e.get("category").and_then(Value::as_str) {
                    category.insert(id, c.to_owned());
                }
            }
        }
    }
    for ((order, ben), net) in &per_order {
        if refunded.get(order) == amounts.get(order) {
            ensure!(
                net.is_zero(),
                "fully refunded {order} leaves {net} to {ben}"
            );
        }
    }
    // §10.3: order lines within round(cap × amount), rounded with the policy
    // mode; the cap of an order's category (§12.1) in place of the policy's.
    let strategy = match policy["rounding"]["mode"].as_str() {
        Some("half_up") => RoundingStrategy::MidpointAwayFromZero,
        Some("half_even") => RoundingStrategy::MidpointNearestEven,
        _ => RoundingStrategy::ToZero,
    };
    for (order, paid) in &original {
        let of_category = category
            .get(order)
            .and_then(|c| policy.get("order_cap_by_category")?.get(c));
        if let Some(cap) = of_category.or_else(|| policy.get("order_cap")) {
            let cap = dec(cap)?;
            let amount = amounts.get(order).copied().unwrap_or_default();
            let limit = cap
                .checked_mul(amount)
                .map(|x| x.round_dp_with_strategy(2, strategy))
                .unwrap_or(Decimal::MAX);
            ensure!(
                *paid <= limit,
                "order {order} pays {paid} over its cap {limit}"
            );
        }
    }
    // Totals hold every beneficiary and add up to total_paid.
    let doc_totals = doc["totals"].as_object().ok_or("no totals")?;
    ensure!(
        doc_totals.len() == totals.len(),
        "totals miss a beneficiary"
    );
    let mut sum = Decimal::ZERO;
    for (m, t) in &totals {
        ensure!(
            dec(&doc_totals[m])? == *t,
            "total of {m} is not the sum of its lines"
        );
        sum += t;
    }
    ensure!(
        dec(&doc["summary"]["total_paid"])? == sum,
        "total_paid is not the sum of lines"
    );
    Ok(())
}

/// §10.6: settling contiguous and interleaved parts and merging gives the whole batch.
pub fn check_split_merge(w: &World, parts: usize) -> Result<(), String> {
    let policy = Policy::from_value(w.policy()).map_err(|e| e.to_string())?;
    let batch = Batch::from_value(w.batch(), &policy).map_err(|e| e.to_string())?;
    let n = batch.event_count();
    let engine = Engine::new(&policy, batch).map_err(|e| e.to_string())?;
    let whole = match engine.settle() {
        Ok(s) => s.to_json(),
        Err(e) if e.code() == "arithmetic_overflow" => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let parts = parts.max(1);
    let cut = |k: usize| k * n / parts;
    let mut merged = fenrun::Part::default();
    for k in 0..parts {
        let part = engine
            .settle_part(|i| i >= cut(k) && i < cut(k + 1))
            .map_err(|e| e.to_string())?;
        merged = merged.merge(part).map_err(|e| e.to_string())?;
    }
    let joined = engine.finish(merged).map_err(|e| e.to_string())?.to_json();
    ensure!(joined == whole, "contiguous parts differ from the whole");
    let even = engine
        .settle_part(|i| i % 2 == 0)
        .map_err(|e| e.to_string())?;
    let odd = engine
        .settle_part(|i| i % 2 == 1)
        .map_err(|e| e.to_string())?;
    let mixed = engine
        .finish(even.merge(odd).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?
        .to_json();
    let parse = |s: &str| serde_json::from_str::<Value>(s).map_err(|e| e.to_string());
    let (mixed, whole) = (parse(&mixed)?, parse(&whole)?);
    let sorted = |v: &Value| {
        let mut l: Vec<String> = v["lines"]
            .as_array()
            .map(|a| a.iter().map(Value::to_string).collect())
            .unwrap_or_default();
        l.sort();
        l
    };
    ensure!(
        sorted(&mixed) == sorted(&whole),
        "interleaved parts hold other lines"
    );
    ensure!(
        mixed["totals"] == whole["totals"],
        "interleaved totals differ"
    );
    ensure!(
        mixed["summary"] == whole["summary"],
        "interleaved summary differs"
    );
    // The threaded totals-only settlement is the one-thread one, byte for byte.
    let totals = SettleOptions::default().lines(Lines::TotalsOnly);
    let one = engine
        .settle_with(totals.clone())
        .map_err(|e| e.to_string())?
        .to_json();
    let threaded = engine
        .settle_with(totals.threads(parts))
        .map_err(|e| e.to_string())?
        .to_json();
    ensure!(threaded == one, "{parts} threads differ from one");
    // Totals-only settlement goes seller by seller; it must agree with the
    // input-order settlement that keeps every line.
    let (mut one, mut whole) = (parse(&one)?, whole);
    one["lines"] = Value::Array(Vec::new());
    whole["lines"] = Value::Array(Vec::new());
    ensure!(
        one == whole,
        "totals-only settlement differs from the whole"
    );
    Ok(())
}

/// §10.6 across machines: the world's orders dealt to `parts` batches by
/// order (each refund with its order), each batch holding only its orders;
/// their [`fenrun::Sums`] merged through bytes, each settled with the
/// merged ranks, their parts sent as bytes to an engine holding the members
/// and groups alone, which finishes. Totals, rank changes and summary are
/// the whole batch's, byte for byte; the lines are the whole's order lines
/// (in another order) with the finishing engine's pool and member-cap lines.
pub fn check_spread(w: &World, parts: usize) -> Result<(), String> {
    let err = |e: fenrun::Error| e.to_string();
    let policy = Policy::from_value(w.policy()).map_err(err)?;
    let doc = w.batch();
    let whole =
        match Batch::from_value(doc.clone(), &policy).and_then(|b| fenrun::settle(&policy, b)) {
            Ok(s) => s,
            // Refused or overflowing batches are other tests' business.
            Err(_) => return Ok(()),
        };
    let parts = parts.max(1);
    let mut dealt = vec![Vec::new(); parts];
    let mut home: BTreeMap<String, usize> = BTreeMap::new();
    let events = doc["events"].as_array().cloned().unwrap_or_default();
    for (k, e) in events.into_iter().enumerate() {
        let part = match e.get("refund_of").and_then(Value::as_str) {
            Some(order) => home.get(order).copied().unwrap_or(0),
            None => {
                // Deal by a mix of the index, so parts are not contiguous.
                let p = (k * 7 + k / 3) % parts;
                home.insert(e["id"].as_str().unwrap_or("").to_owned(), p);
                p
            }
        };
        if let Some(d) = dealt.get_mut(part) {
            d.push(e);
        }
    }
    let batch_with = |events: Vec<Value>| {
        let mut d = doc.clone();
        d["events"] = Value::Array(events);
        Batch::from_value(d, &policy)
    };
    let batches = dealt
        .into_iter()
        .map(batch_with)
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let mut parts = Vec::new();
    for b in &batches {
        let bytes = fenrun::Sums::of(&policy, b).map_err(err)?.to_bytes();
        parts.push(fenrun::Sums::from_bytes(&bytes).map_err(err)?);
    }
    let sums = fenrun::Sums::merge_all(parts).map_err(err)?;
    let driver =
        Engine::with_sums(&policy, batch_with(Vec::new()).map_err(err)?, &sums).map_err(err)?;
    let mut merged = fenrun::Part::default();
    let mut merged_totals = fenrun::Part::default();
    let mut lines = Vec::new();
    for b in batches {
        let engine = Engine::with_sums(&policy, b, &sums).map_err(err)?;
        let part = engine.settle_part(|_| true).map_err(err)?;
        let names = engine.line_names();
        for i in 0..part.len() {
            lines.push(format!("{:?}", names.view(part.lines(), i)));
        }
        let bytes = engine.part_bytes(&part).map_err(err)?;
        let totals = engine.part_bytes(&engine.settle_totals_part().map_err(err)?);
        merged = merged
            .merge(driver.read_part(&bytes).map_err(err)?)
            .map_err(err)?;
        merged_totals = merged_totals
            .merge(driver.read_part(&totals.map_err(err)?).map_err(err)?)
            .map_err(err)?;
    }
    let finished = driver.finish(merged).map_err(err)?;
    // Without lines, the same totals and summary (and pool lines).
    let from_totals = driver.finish(merged_totals).map_err(err)?;
    ensure!(
        from_totals.to_json() == finished.to_json(),
        "the parts' totals without lines differ from their parts with lines"
    );
    lines.extend(finished.lines().map(|l| format!("{:?}", Some(l))));
    let mut expected: Vec<String> = whole.lines().map(|l| format!("{:?}", Some(l))).collect();
    lines.sort();
    expected.sort();
    ensure!(lines == expected, "the parts' lines are not the whole's");
    let strip = |s: &fenrun::Settlement| {
        let mut v: Value = serde_json::from_str(&s.to_json()).unwrap_or(Value::Null);
        v["lines"] = Value::Array(Vec::new());
        v
    };
    ensure!(
        strip(&finished) == strip(&whole),
        "totals, rank changes or summary differ from the whole's"
    );
    Ok(())
}
