//! The ledger's guarantees (SPEC §14) over random worlds: replay equals batch
//! settlement byte for byte, a snapshot restored anywhere continues exactly,
//! an event applied twice counts once, and a rejected event changes nothing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

mod common;

use fenrun::input::{GroupRecord, MemberRecord, StreamEvent};
use fenrun::{Batch, Ledger, Policy};
use fenrun_testkit::world::World;
use proptest::prelude::*;
use serde_json::{json, Value};

fn world() -> impl Strategy<Value = World> {
    common::world(20, 8, 20)
}

/// The world's policy, its batch document, and the batch settled at once
/// (`None` when the batch is refused).
fn batch_of(w: &World) -> (Policy, Value, Option<String>) {
    batch_in(w, false)
}

/// [`batch_of`], the policy in rank timing `immediate` (SPEC §13) if asked.
fn batch_in(w: &World, immediate: bool) -> (Policy, Value, Option<String>) {
    let mut doc = w.policy();
    if immediate {
        doc["version"] = json!(2);
        doc["rank_timing"] = json!("immediate");
    }
    let policy = Policy::from_value(doc).unwrap();
    let doc = w.batch();
    let settled = Batch::from_value(doc.clone(), &policy)
        .and_then(|b| fenrun::settle(&policy, b))
        .ok()
        .map(|s| s.to_json());
    (policy, doc, settled)
}

fn open(policy: &Policy, doc: &Value) -> Ledger {
    let members: Vec<MemberRecord> = serde_json::from_value(doc["members"].clone()).unwrap();
    let groups: Vec<GroupRecord> =
        serde_json::from_value(doc.get("groups").cloned().unwrap_or(json!([]))).unwrap();
    Ledger::open(policy, members, groups).unwrap()
}

fn events(doc: &Value) -> Vec<Value> {
    doc["events"].as_array().cloned().unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, .. ProptestConfig::default() })]

    /// §14 guarantee 1: the events one by one give the batch's bytes, both
    /// as the settlement so far and when closed, in both rank timings (§13).
    #[test]
    fn replay_equals_batch(
        w in world(),
        immediate in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        caught in any::<bool>(),
    ) {
        let (policy, doc, settled) = batch_in(&w, immediate);
        let Some(settled) = settled else { return Ok(()) };
        let mut ledger = open(&policy, &doc);
        // The first events taken (settled later: by a catch-up, or with
        // the next one applied), the others applied one by one.
        let all = events(&doc);
        let ids: Vec<String> = all.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
        let k = cut.index(all.len() + 1);
        let mut answered = Vec::new();
        let mut answering = std::collections::HashSet::new();
        let mut collect = |lines: Option<fenrun::EventLines>, of: &[String]| {
            if let Some(lines) = lines {
                answering.extend(of.iter().cloned());
                for l in lines.json() {
                    answered.push(serde_json::from_str::<Value>(&l).unwrap());
                }
            }
        };
        for (i, e) in all.into_iter().enumerate() {
            if i == k && caught {
                // The taken events' lines, end to end.
                collect(ledger.catch_up().unwrap(), &ids[..k]);
            }
            let applied = match i < k {
                true => ledger.take(&StreamEvent::from_value(e).unwrap()).unwrap(),
                false => ledger.apply_value(e).unwrap(),
            };
            // §14 guarantee 4: in `immediate` timing each event applied
            // answers with its lines; in `period_end` timing none is known
            // yet; a taken event's come with no answer.
            prop_assert_eq!(applied.lines.is_some(), immediate && !applied.duplicate && i >= k);
            collect(applied.lines, &ids[i..=i]);
        }
        // Events only taken are settled before the state is read.
        let last = ledger.catch_up().unwrap();
        prop_assert_eq!(last.is_some(), immediate);
        collect(last, if k == ids.len() { &ids[..] } else { &[] });
        if immediate {
            // The settlement's lines of the orders and refunds answered
            // (a reversal is its refund's), pools' and member caps' (which
            // belong to no event) left out.
            let all: Value = serde_json::from_str(&settled).unwrap();
            let of_events: Vec<Value> = all["lines"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|l| {
                    let event = l.get("refund").or_else(|| l.get("order"));
                    event.and_then(Value::as_str).is_some_and(|e| answering.contains(e))
                })
                .cloned()
                .collect();
            prop_assert_eq!(answered, of_events);
        }
        prop_assert_eq!(&ledger.settlement().unwrap().to_json(), &settled);
        // Totals only and the rank changes (in `immediate` timing finished
        // from the state the ledger keeps): the batch's.
        let totals = fenrun::SettleOptions::default().lines(fenrun::Lines::TotalsOnly);
        let batch = Batch::from_value(doc.clone(), &policy).unwrap();
        let engine = fenrun::Engine::new(&policy, batch).unwrap();
        prop_assert_eq!(
            ledger.settlement_with(totals.clone()).unwrap().to_json(),
            engine.settle_with(totals).unwrap().to_json()
        );
        prop_assert_eq!(ledger.rank_changes().unwrap(), engine.settle().unwrap().rank_changes().to_vec());
        prop_assert_eq!(&ledger.close().unwrap().to_json(), &settled);
    }

    /// §14 guarantee 3: a snapshot at any point, restored, then the rest,
    /// gives what the uninterrupted ledger gives, in both rank timings.
    #[test]
    fn snapshot_restore_continues(
        w in world(),
        cut in any::<prop::sample::Index>(),
        immediate in any::<bool>(),
    ) {
        let (policy, doc, settled) = batch_in(&w, immediate);
        let Some(settled) = settled else { return Ok(()) };
        let all = events(&doc);
        let k = cut.index(all.len() + 1);
        let mut ledger = open(&policy, &doc);
        for e in &all[..k] {
            ledger.apply_value(e.clone()).unwrap();
        }
        let bytes = ledger.snapshot();
        let mut restored = Ledger::restore(&policy, &bytes).unwrap();
        prop_assert_eq!(restored.snapshot(), bytes);
        for e in &all[k..] {
            restored.apply_value(e.clone()).unwrap();
        }
        prop_assert_eq!(restored.close().unwrap().to_json(), settled);
    }

    /// A snapshot holds each event as its canonical JSON, whether the ledger
    /// kept that text or makes it again from its tables.
    #[test]
    fn snapshots_hold_each_events_canonical_json(w in world()) {
        let (policy, doc, settled) = batch_of(&w);
        let Some(_) = settled else { return Ok(()) };
        let mut ledger = open(&policy, &doc);
        let mut canonical = Vec::new();
        for e in events(&doc) {
            canonical.push(StreamEvent::from_value(e.clone()).unwrap().to_json());
            ledger.apply_value(e).unwrap();
        }
        prop_assert_eq!(snapshot_events(&ledger), canonical);
    }

    /// §14 guarantee 2: every event applied twice is applied once.
    #[test]
    fn twice_is_once(w in world()) {
        let (policy, doc, settled) = batch_of(&w);
        let Some(settled) = settled else { return Ok(()) };
        let mut ledger = open(&policy, &doc);
        for e in events(&doc) {
            let first = ledger.apply_value(e.clone()).unwrap();
            let again = ledger.apply_value(e).unwrap();
            prop_assert!(!first.duplicate && again.duplicate);
            prop_assert_eq!(first.position, again.position);
        }
        prop_assert_eq!(ledger.settlement().unwrap().to_json(), settled);
    }

    /// §14 guarantee 2: a conflicting duplicate, an order of an unknown
    /// member and a refund of an unknown order are refused, and the
    /// settlement so far is unchanged.
    #[test]
    fn rejected_events_change_nothing(w in world()) {
        let (policy, doc, settled) = batch_of(&w);
        let Some(settled) = settled else { return Ok(()) };
        let all = events(&doc);
        let mut ledger = open(&policy, &doc);
        for e in &all {
            ledger.apply_value(e.clone()).unwrap();
        }
        let before = ledger.snapshot();
        let mut refused = vec![
            (json!({"id": "x1", "seller": "nobody", "amount": "1.00"}), "unknown_seller"),
            (json!({"id": "x2", "refund_of": "no-order", "amount": "1.00"}), "unknown_order"),
            (json!({"id": "x3", "member": {"id": "m00", "rank": "partner"}}), "rank_update"),
        ];
        if let Some(first) = all.first() {
            let mut changed = first.clone();
            changed["amount"] = json!("0.01");
            if changed != *first {
                refused.push((changed, "event_conflict"));
            }
        }
        for (event, code) in refused {
            let err = ledger.apply_value(event).unwrap_err();
            prop_assert_eq!(err.code(), code, "{}", err);
            prop_assert_eq!(ledger.len(), all.len());
        }
        prop_assert_eq!(ledger.snapshot(), before);
        prop_assert_eq!(ledger.settlement().unwrap().to_json(), settled);
    }

    /// §14.2: a version-2 batch whose events are repeated (each picked
    /// repeated later, anywhere after itself) settles as the batch without
    /// the repeats, from a document and from rows given in chunks (a
    /// table's reader: [`fenrun::BatchBuilder::finish_or_again`]), in both
    /// rank timings.
    #[test]
    fn repeated_events_count_once_in_documents_and_tables(
        w in world(),
        immediate in any::<bool>(),
        repeats in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..6),
        chunk in 1usize..5,
    ) {
        let (mut policy, doc, _) = batch_in(&w, immediate);
        if policy.version() < 2 {
            let mut p = w.policy();
            p["version"] = json!(2);
            policy = Policy::from_value(p).unwrap();
        }
        let settled = Batch::from_value(doc.clone(), &policy)
            .and_then(|b| fenrun::settle(&policy, b))
            .map(|s| s.to_json());
        let Ok(settled) = settled else { return Ok(()) };
        let mut all = events(&doc);
        for (pick, to) in &repeats {
            if all.is_empty() {
                break;
            }
            let i = pick.index(all.len());
            let at = i + 1 + to.index(all.len() - i);
            all.insert(at, all[i].clone());
        }
        let mut repeated = doc.clone();
        repeated["events"] = Value::Array(all.clone());
        let from_doc = Batch::from_value(repeated, &policy).and_then(|b| fenrun::settle(&policy, b));
        prop_assert_eq!(from_doc.unwrap().to_json(), settled.clone());
        // Tables carry orders and refunds only.
        let Ok(rows) = serde_json::from_value::<Vec<fenrun::input::EventRecord>>(Value::Array(all)) else {
            return Ok(());
        };
        let members: Vec<MemberRecord> = serde_json::from_value(doc["members"].clone()).unwrap();
        let groups: Vec<GroupRecord> =
            serde_json::from_value(doc.get("groups").cloned().unwrap_or(json!([]))).unwrap();
        let mut builder = fenrun::BatchBuilder::new(members, &groups, &policy).unwrap();
        let pushed = rows.chunks(chunk).try_for_each(|c| builder.push_events(c));
        let batch = match builder.finish_or_again(pushed).unwrap() {
            fenrun::Finished::Batch(b) => b,
            fenrun::Finished::Again(mut again) => {
                rows.chunks(chunk).try_for_each(|c| again.push_events(c)).unwrap();
                again.finish().unwrap()
            }
        };
        prop_assert_eq!(fenrun::settle(&policy, batch).unwrap().to_json(), settled);
    }
}

const POLICY: &str = r#"{"version": 2,
  "ranks": [{"id": "member", "rate": "0.10"}, {"id": "owner", "rate": "0.20",
             "upgrade": {"metric": "largest_group", "gte": 100}}],
  "evaluate_ranks": true,
  "rules": [{"id": "spread", "type": "differential"}]}"#;

fn ledger_of(events: &[&str]) -> Ledger {
    let policy = Policy::from_json(POLICY).unwrap();
    let mut ledger = Ledger::open(&policy, vec![MemberRecord::new("m1")], vec![]).unwrap();
    for e in events {
        ledger.apply_json(e).unwrap();
    }
    ledger
}

#[test]
fn members_join_and_change_and_groups_grow_mid_stream() {
    let ledger = ledger_of(&[
        r#"{"id": "e1", "member": {"id": "m2", "sponsor": "m1"}}"#,
        r#"{"id": "o1", "seller": "m2", "amount": "100.00"}"#,
        r#"{"id": "g1", "group": {"id": "g1", "owner": "m1", "size": 20}}"#,
        r#"{"id": "g2", "group": {"id": "g1", "owner": "m1", "size": 150}}"#,
        r#"{"id": "e2", "member": {"id": "m2", "active": false}}"#,
    ]);
    // period_end: the final state counts. m1 owns a group of 150 (owner,
    // 0.20); m2 is inactive, so m1 takes the whole spread: 0.20 × 100.
    let s = ledger.settlement().unwrap();
    assert_eq!(s.total_of("m1").unwrap().to_string(), "20.00");
    assert_eq!(s.total_of("m2"), None);
}

#[test]
fn member_and_group_errors_name_the_event() {
    let mut ledger = ledger_of(&[r#"{"id": "e1", "member": {"id": "m2", "sponsor": "m1"}}"#]);
    let cases = [
        (
            r#"{"id": "e2", "member": {"id": "m3", "sponsor": "m9"}}"#,
            "unknown_sponsor",
            "events[1].member.sponsor",
        ),
        (
            r#"{"id": "e2", "member": {"id": "m3", "rank": "boss"}}"#,
            "unknown_rank",
            "events[1].member.rank",
        ),
        (
            r#"{"id": "e2", "member": {"id": "m2", "rank": "owner"}}"#,
            "rank_update",
            "events[1].member.rank",
        ),
        (
            r#"{"id": "e2", "member": {"id": "m1", "sponsor": "m2"}}"#,
            "sponsor_cycle",
            "events[1].member.sponsor",
        ),
        (
            r#"{"id": "e2", "group": {"id": "g1", "owner": "m9", "size": 3}}"#,
            "unknown_owner",
            "events[1].group.owner",
        ),
        (
            r#"{"id": "e2", "group": {"id": "g1", "owner": "m1", "size": -3}}"#,
            "negative_size",
            "events[1].group.size",
        ),
        (
            r#"{"id": "e2", "received": "e1", "at": "2026-11-01T10:00:00Z"}"#,
            "unknown_order",
            "events[1].received",
        ),
        (
            r#"{"id": "e2", "member": {"id": "m3"}, "at": "yesterday"}"#,
            "invalid_timestamp",
            "events[1].at",
        ),
        (
            r#"{"id": "e2", "seller": "m1", "amount": "1.001"}"#,
            "too_many_decimals",
            "events[1].amount",
        ),
        (
            r#"{"id": "e2", "seller": "m1", "amount": 1.5}"#,
            "float_number",
            "events[1].amount",
        ),
        (
            r#"{"id": "e2", "member": {"id": "m3", "sponser": "m1"}}"#,
            "unknown_field",
            "events[1].member",
        ),
        (
            r#"{"id": "e1", "member": {"id": "m2", "sponsor": "m2"}}"#,
            "event_conflict",
            "events[1].id",
        ),
        (
            r#"{"id": "", "seller": "m1", "amount": "1"}"#,
            "empty_id",
            "events[1].id",
        ),
    ];
    let before = ledger.snapshot();
    for (event, code, path) in cases {
        let err = ledger.apply_json(event).unwrap_err();
        assert_eq!((err.code(), err.path()), (code, path), "{event}: {err}");
    }
    assert_eq!(ledger.snapshot(), before);
    // The same sponsor again is no move; a received order once only.
    ledger
        .apply_json(r#"{"id": "e3", "member": {"id": "m2", "sponsor": "m1"}}"#)
        .unwrap();
    ledger
        .apply_json(r#"{"id": "o1", "seller": "m2", "amount": "5"}"#)
        .unwrap();
    ledger
        .apply_json(r#"{"id": "r1", "received": "o1", "at": "2026-11-01T10:00:00Z"}"#)
        .unwrap();
    let err = ledger
        .apply_json(r#"{"id": "r2", "received": "o1", "at": "2026-11-02T10:00:00Z"}"#)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("received_twice", "events[4].received")
    );
}

#[test]
fn a_buyer_counts_for_purchases_only_once_a_member() {
    // purchases ≥ 10 makes a member active; m2 buys 20.00 before it joins
    // and 5.00 after: only 5.00 counts, so m2 stays inactive and earns
    // nothing on its own later sale.
    let policy = Policy::from_json(
        r#"{"version": 2,
      "ranks": [{"id": "member", "rate": "0.10"}],
      "active_if": {"metric": "purchases", "gte": "10"},
      "rules": [{"id": "spread", "type": "differential"}]}"#,
    )
    .unwrap();
    let mut ledger = Ledger::open(&policy, vec![MemberRecord::new("m1")], vec![]).unwrap();
    for e in [
        r#"{"id": "o1", "seller": "m1", "buyer": "m2", "amount": "20.00"}"#,
        r#"{"id": "e1", "member": {"id": "m2", "sponsor": "m1"}}"#,
        r#"{"id": "o2", "seller": "m1", "buyer": "m2", "amount": "5.00"}"#,
        r#"{"id": "o3", "seller": "m2", "buyer": "m1", "amount": "30.00"}"#,
    ] {
        ledger.apply_json(e).unwrap();
    }
    let s = ledger.settlement().unwrap();
    // m1 bought 30.00 (active); m2 bought 5.00 (inactive). m1 earns the
    // spread of its own sales and of m2's: 0.10 × (20 + 5 + 30) = 5.50.
    assert_eq!(s.total_of("m1").unwrap().to_string(), "5.50");
    assert_eq!(s.total_of("m2"), None);
}

/// A snapshot's text with its header replaced and its checksum made again:
/// what a buggy writer (not a corrupted file) could produce.
fn resealed(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    use sha2::Digest;
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let body = text
        .strip_suffix('\n')
        .unwrap()
        .rsplit_once('\n')
        .unwrap()
        .0;
    let body = format!("{}\n", body.replacen(from, to, 1));
    let sum: String = sha2::Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{body}sha256:{sum}\n").into_bytes()
}

#[test]
fn snapshot_counts_above_its_size_are_refused_not_allocated() {
    let ledger = ledger_of(&[r#"{"id": "o1", "seller": "m1", "amount": "10.00"}"#]);
    let policy = Policy::from_json(POLICY).unwrap();
    let bytes = ledger.snapshot();
    for (from, to) in [
        ("\"members\":1", "\"members\":18446744073709551615"),
        ("\"events\":1", "\"events\":18446744073709551615"),
        ("\"groups\":0", "\"groups\":4000000000"),
    ] {
        let err = Ledger::restore(&policy, &resealed(&bytes, from, to)).unwrap_err();
        assert_eq!(err.code(), "invalid_snapshot", "{to}: {err}");
    }
    // Resealed unchanged, it restores.
    assert!(Ledger::restore(&policy, &resealed(&bytes, "", "")).is_ok());
}

#[test]
fn snapshots_refuse_corrupt_truncated_other_version_and_other_policy() {
    let ledger = ledger_of(&[
        r#"{"id": "e1", "member": {"id": "m2", "sponsor": "m1"}}"#,
        r#"{"id": "o1", "seller": "m2", "amount": "100.00"}"#,
    ]);
    let policy = Policy::from_json(POLICY).unwrap();
    let bytes = ledger.snapshot();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("fenrun-ledger-snapshot 1\n{\"events\":2,\"groups\":0,\"members\":1,\"policy\":\"sha256:"), "{text}");
    let code = |b: &[u8]| Ledger::restore(&policy, b).unwrap_err().code();
    let mut flipped = bytes.clone();
    let at = text.find("100.00").unwrap();
    flipped[at] = b'9';
    assert_eq!(code(&flipped), "invalid_snapshot");
    for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
        assert_eq!(code(&bytes[..cut]), "invalid_snapshot", "cut at {cut}");
    }
    let other_version = text.replacen("snapshot 1", "snapshot 2", 1);
    let err = Ledger::restore(&policy, other_version.as_bytes()).unwrap_err();
    assert_eq!(err.code(), "invalid_snapshot");
    assert!(err.to_string().contains("snapshot version 2"), "{err}");
    let other = Policy::from_json(&POLICY.replace("0.20", "0.25")).unwrap();
    assert_eq!(
        Ledger::restore(&other, &bytes).unwrap_err().code(),
        "foreign_snapshot"
    );
    // The same policy written otherwise is the same policy.
    let respaced = Policy::from_json(&POLICY.replace('\n', " ").replace(": ", ":")).unwrap();
    let restored = Ledger::restore(&respaced, &bytes).unwrap();
    assert_eq!(restored.snapshot(), bytes);
}

/// Many events through tables that start small and are remade as they fill,
/// and through tables reserved once: the same answers, duplicates found
/// wherever they fall (orders, whose ids the stream reads among the
/// batch's, and members joining, whose ids it keeps itself), the same
/// snapshot. m1 sells 1.00 + 2.00 + … + 50.00 = 1,275.00 as a `member` (no
/// group, so no upgrade) and earns 0.10 of it: 127.50; the members who
/// join sell nothing. A refund of a member's event is of no order.
#[test]
fn growing_and_reserved_tables_answer_alike() {
    let policy = Policy::from_json(POLICY).unwrap();
    let mut events = Vec::new();
    for k in 1..=50 {
        events.push(format!(
            r#"{{"id": "o{k}", "seller": "m1", "amount": "{k}.00"}}"#
        ));
        if k % 5 == 0 {
            events.push(format!(
                r#"{{"id": "j{k}", "member": {{"id": "n{k}", "sponsor": "m1"}}}}"#
            ));
        }
    }
    let mut grown = Ledger::open(&policy, vec![MemberRecord::new("m1")], vec![]).unwrap();
    let mut reserved = Ledger::open(&policy, vec![MemberRecord::new("m1")], vec![]).unwrap();
    reserved.reserve(events.len());
    for ledger in [&mut grown, &mut reserved] {
        for (k, e) in events.iter().enumerate() {
            assert_eq!(ledger.apply_json(e).unwrap().position, k);
        }
        for (k, e) in events.iter().enumerate() {
            let again = ledger.apply_json(e).unwrap();
            assert!(again.duplicate && again.position == k, "{e}");
        }
    }
    assert_eq!(grown.snapshot(), reserved.snapshot());
    let of_a_member = r#"{"id": "r1", "refund_of": "j25", "amount": "1.00"}"#;
    let err = grown.apply_json(of_a_member).unwrap_err();
    assert_eq!(err.code(), "unknown_order", "{err}");
    let s = grown.settlement().unwrap();
    assert_eq!(s.total_of("m1").unwrap().to_string(), "127.50");
}

/// A random run of orders and sponsor moves on eight members: each order's
/// levels lines go to its seller and the two sponsors above it as the tree
/// stood when the order came (a chain walked here on a plain parent array),
/// a move that would make a cycle is refused with `sponsor_cycle`, and the
/// ledger's settlement is the batch document's.
#[test]
fn sponsor_moves_change_later_chains_only() {
    let policy = Policy::from_json(
        r#"{"version": 2, "ranks": [{"id": "member"}],
            "rules": [{"id": "l", "type": "levels", "rates": ["0.10", "0.05", "0.02"]}]}"#,
    )
    .unwrap();
    let mut runner = proptest::test_runner::TestRunner::default();
    let ops = prop::collection::vec((any::<bool>(), 0usize..8, 0usize..9), 1..30);
    let parents = prop::collection::vec(0usize..8, 8);
    runner
        .run(&(parents, ops), |(parents, ops)| {
            // m{i}'s sponsor is a smaller index (m0 a root): a tree.
            let mut parent: Vec<Option<usize>> = (0..8)
                .map(|i| (i > 0).then(|| parents[i] % i))
                .collect();
            let members: Vec<Value> = (0..8)
                .map(|i| json!({"id": format!("m{i}"), "sponsor": parent[i].map(|p| format!("m{p}"))}))
                .collect();
            let mut ledger = Ledger::open_value(&policy, json!({"members": members.clone()})).unwrap();
            let (mut events, mut want) = (Vec::new(), Vec::new());
            for (k, (is_order, who, to)) in ops.into_iter().enumerate() {
                if is_order {
                    let e = json!({"id": format!("o{k}"), "seller": format!("m{who}"), "amount": "100.00"});
                    ledger.apply_value(e.clone()).unwrap();
                    events.push(e);
                    let mut at = Some(who);
                    for level in 0..3 {
                        let Some(m) = at else { break };
                        want.push((format!("o{k}"), format!("m{m}"), level));
                        at = parent[m];
                    }
                    continue;
                }
                // `to` 8 makes a root.
                let sponsor = (to < 8).then_some(to);
                let e = json!({"id": format!("e{k}"), "member": {"id": format!("m{who}"),
                               "sponsor": sponsor.map(|p| format!("m{p}"))}});
                let mut up = sponsor;
                let mut cycle = false;
                while let Some(x) = up {
                    if x == who {
                        cycle = true;
                        break;
                    }
                    up = parent[x];
                }
                match ledger.apply_value(e.clone()) {
                    Err(err) => {
                        let code = if sponsor == Some(who) { "self_sponsor" } else { "sponsor_cycle" };
                        prop_assert!(cycle, "{err}");
                        prop_assert_eq!(err.code(), code);
                    }
                    Ok(_) => {
                        prop_assert!(!cycle);
                        parent[who] = sponsor;
                        events.push(e);
                    }
                }
            }
            let settled = ledger.settlement().unwrap().to_json();
            let doc: Value = serde_json::from_str(&settled).unwrap();
            let got: Vec<(String, String, u64)> = doc["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        l["order"].as_str().unwrap().to_owned(),
                        l["beneficiary"].as_str().unwrap().to_owned(),
                        l["level"].as_u64().unwrap(),
                    )
                })
                .collect();
            let want: Vec<(String, String, u64)> = want
                .into_iter()
                .map(|(o, m, l)| (o, m, l as u64))
                .collect();
            prop_assert_eq!(got, want);
            // The same events in a version-2 batch document settle alike.
            let batch = Batch::from_value(json!({"members": members, "events": events}), &policy).unwrap();
            prop_assert_eq!(fenrun::settle(&policy, batch).unwrap().to_json(), settled);
            Ok(())
        })
        .unwrap();
}

/// A table read again (§14.2) keeps the canonical form only of rows whose id
/// the first reading saw more than once; rows that changed between the two
/// readings are refused, never merged: here the second reading has o2
/// twice where the first had o2 and o3, neither kept.
#[test]
fn rows_changed_between_two_readings_are_refused() {
    use fenrun::input::EventRecord;
    use rust_decimal::Decimal;
    let policy = Policy::from_json(POLICY).unwrap();
    let order = |id: &str| EventRecord::order(id, Some("m1"), None, Decimal::new(500, 2));
    let first = [order("o1"), order("o1"), order("o2"), order("o3")];
    let mut builder =
        fenrun::BatchBuilder::new(vec![MemberRecord::new("m1")], &[], &policy).unwrap();
    let pushed = builder.push_events(&first[..]);
    let fenrun::Finished::Again(mut again) = builder.finish_or_again(pushed).unwrap() else {
        panic!("a repeated id under a version-2 policy is read again");
    };
    let err = again
        .push_events(&[order("o1"), order("o1"), order("o2"), order("o2")][..])
        .unwrap_err();
    assert_eq!((err.code(), err.path()), ("event_conflict", "events[3].id"));
}

/// §14 guarantee 4 with a hold from receipt (§14.1), `immediate` timing:
/// each event answers with its lines as known when it is applied. Member
/// 10 %, hold 7 days from receipt.
///
/// - o1 (01-01), 100.00: 10.00, pending with no `available_at` (not received).
/// - k1 receives o1 on 01-02: no line; o1's lines become available 01-09.
/// - r1 (01-20) refunds 40.00 of o1: after 01-09, a clawback of
///   40.00 × 0.10 = 4.00 (base the refund amount, §6.2), available at the
///   refund's own `at`, 01-20.
/// - o2 (01-01), 50.00: 5.00; r2 (01-05) refunds all of it before any
///   receipt: a void, −5.00, with o2's line's `available_at` (unknown: none).
#[test]
fn an_order_answers_with_its_lines_as_known_when_applied() {
    let policy = Policy::from_json(
        r#"{"version": 2, "rank_timing": "immediate", "hold": {"days": 7, "from": "received"},
            "ranks": [{"id": "member", "rate": "0.10"}],
            "rules": [{"id": "spread", "type": "differential"}]}"#,
    )
    .unwrap();
    let mut ledger = Ledger::open(&policy, vec![MemberRecord::new("m1")], vec![]).unwrap();
    let mut answer = |event: &str| ledger.apply_json(event).unwrap().lines.unwrap().json();
    let line = r#"{"order":"o1","rule":"spread","kind":"differential","beneficiary":"m1","level":0,"base":"100.00","rate":"0.1","amount":"10.00"}"#;
    assert_eq!(
        answer(r#"{"id": "o1", "seller": "m1", "amount": "100.00", "at": "2026-01-01T00:00:00Z"}"#),
        [line]
    );
    assert!(answer(r#"{"id": "k1", "received": "o1", "at": "2026-01-02T00:00:00Z"}"#).is_empty());
    let back = r#"{"order":"o1","refund":"r1","rule":"spread","kind":"differential","beneficiary":"m1","level":0,"base":"40.00","rate":"0.1","amount":"-4.00","available_at":"2026-01-20T00:00:00Z"}"#;
    assert_eq!(
        answer(
            r#"{"id": "r1", "refund_of": "o1", "amount": "40.00", "at": "2026-01-20T00:00:00Z"}"#
        ),
        [back]
    );
    answer(r#"{"id": "o2", "seller": "m1", "amount": "50.00", "at": "2026-01-01T00:00:00Z"}"#);
    let void = r#"{"order":"o2","refund":"r2","rule":"spread","kind":"differential","beneficiary":"m1","level":0,"base":"50.00","rate":"0.1","amount":"-5.00"}"#;
    assert_eq!(
        answer(
            r#"{"id": "r2", "refund_of": "o2", "amount": "50.00", "at": "2026-01-05T00:00:00Z"}"#
        ),
        [void]
    );
    // A duplicate answers with the first position and no lines.
    let again = ledger
        .apply_json(
            r#"{"id": "o2", "seller": "m1", "amount": "50.00", "at": "2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
    assert_eq!(
        (again.position, again.duplicate, again.lines),
        (3, true, None)
    );
}

/// An order whose line is beyond 64 bits of cents, refunded whole in
/// `immediate` timing (the ledger keeps such amounts apart): 10 % of
/// 10^21 is 10^20 (10^22 cents, above 2^63); the refund of all of it
/// reverses all that is left of the line, 10^20.
#[test]
fn a_refund_of_an_order_beyond_64_bits_of_cents_reverses_it() {
    let policy = Policy::from_json(
        r#"{"version": 2, "rank_timing": "immediate",
            "ranks": [{"id": "member", "rate": "0.10"}],
            "rules": [{"id": "spread", "type": "differential"}]}"#,
    )
    .unwrap();
    let mut ledger = Ledger::open(&policy, vec![MemberRecord::new("m1")], vec![]).unwrap();
    let big = r#"{"id": "o1", "seller": "m1", "amount": "1000000000000000000000.00"}"#;
    let lines = ledger.apply_json(big).unwrap().lines.unwrap().json();
    assert!(
        lines[0].contains(r#""amount":"100000000000000000000.00""#),
        "{lines:?}"
    );
    let all = r#"{"id": "r1", "refund_of": "o1", "amount": "1000000000000000000000.00"}"#;
    let lines = ledger.apply_json(all).unwrap().lines.unwrap().json();
    assert!(
        lines[0].contains(r#""amount":"-100000000000000000000.00""#),
        "{lines:?}"
    );
}

/// The events a ledger's snapshot holds, a line each (its last `events`
/// lines before the checksum).
fn snapshot_events(ledger: &Ledger) -> Vec<String> {
    let bytes = ledger.snapshot();
    let text = std::str::from_utf8(&bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let end = lines.len() - 1;
    lines[end - ledger.len()..end]
        .iter()
        .map(|l| (*l).to_owned())
        .collect()
}

/// Most orders and refunds are kept as the batch's tables hold them and
/// their canonical JSON made again when asked for: every other form is kept
/// as given. Each event's snapshot line is its canonical JSON, a repeat is
/// told from a conflict by it, and a restore gives the same bytes.
#[test]
fn events_kept_in_tables_give_back_their_canonical_json() {
    let policy = Policy::from_json(
        r#"{"version": 2, "ranks": [{"id": "member", "rate": "0.10"}],
            "rules": [{"id": "spread", "type": "differential"}]}"#,
    )
    .unwrap();
    let members = vec![MemberRecord::new("m1"), MemberRecord::new("m 2")];
    let mut ledger = Ledger::open(&policy, members, vec![]).unwrap();
    let events = [
        // Plain: id, seller or order, amount at the policy's two decimals.
        r#"{"id": "o1", "seller": "m1", "amount": "50.00"}"#,
        r#"{"id": "r1", "refund_of": "o1", "amount": "0.01"}"#,
        // Ids that JSON escapes.
        r#"{"id": "o\"2\u00e9", "seller": "m 2", "amount": "7.10"}"#,
        r#"{"id": "r\n2", "refund_of": "o\"2\u00e9", "amount": "7.10"}"#,
        // Fewer decimals than the scale: the tables would write "50.00".
        r#"{"id": "o3", "seller": "m1", "amount": "50"}"#,
        r#"{"id": "o4", "seller": "m1", "amount": "5.5"}"#,
        // Beyond 64 bits of units.
        r#"{"id": "o5", "seller": "m1", "amount": "100000000000000000000.00"}"#,
        // A buyer, a time, a category, a quantity, no seller.
        r#"{"id": "o6", "seller": "m1", "buyer": "c1", "amount": "1.00"}"#,
        r#"{"id": "o7", "seller": "m1", "amount": "1.00", "at": "2026-12-01T08:00:00+08:00"}"#,
        r#"{"id": "o8", "seller": "m1", "amount": "1.00", "category": "food"}"#,
        r#"{"id": "o9", "seller": "m1", "amount": "1.00", "quantity": 2}"#,
        r#"{"id": "o10", "buyer": "m1", "amount": "1.00"}"#,
        r#"{"id": "r3", "refund_of": "o3", "amount": "10"}"#,
        r#"{"id": "e1", "member": {"id": "m3", "sponsor": "m1"}}"#,
        r#"{"id": "o11", "seller": "m3", "amount": "2.00"}"#,
        // Buyers, kept beside the mark: empty, a member, marks and escapes.
        r#"{"id": "o12", "seller": "m1", "buyer": "", "amount": "1.00"}"#,
        r#"{"id": "o13", "seller": "m1", "buyer": "m 2", "amount": "1.00"}"#,
        r#"{"id": "o14", "seller": "m1", "buyer": "+=\"{\u00e9", "amount": "1.00"}"#,
        r#"{"id": "=", "seller": "m1", "amount": "1.00"}"#,
    ];
    let canonical: Vec<String> = events
        .iter()
        .map(|e| StreamEvent::from_json(e).unwrap().to_json())
        .collect();
    for e in &events {
        assert!(!ledger.apply_json(e).unwrap().duplicate, "{e}");
    }
    assert_eq!(snapshot_events(&ledger), canonical);
    // Repeats of each form: the same content is a duplicate.
    for (k, e) in events.iter().enumerate() {
        let again = ledger.apply_json(e).unwrap();
        assert_eq!((again.duplicate, again.position), (true, k), "{e}");
    }
    // Other content under a kept id is a conflict: another amount, the same
    // amount written otherwise, a field more.
    for e in [
        r#"{"id": "o1", "seller": "m1", "amount": "50.01"}"#,
        r#"{"id": "o1", "seller": "m1", "amount": "50.0"}"#,
        r#"{"id": "r1", "refund_of": "o1", "amount": "0.01", "at": "2026-12-01T08:00:00Z"}"#,
        r#"{"id": "o3", "seller": "m1", "amount": "50.00"}"#,
        r#"{"id": "o11", "seller": "m1", "amount": "2.00"}"#,
        r#"{"id": "o6", "seller": "m1", "buyer": "c2", "amount": "1.00"}"#,
        r#"{"id": "o6", "seller": "m1", "amount": "1.00"}"#,
        r#"{"id": "o12", "seller": "m1", "amount": "1.00"}"#,
        r#"{"id": "o1", "seller": "m1", "buyer": "", "amount": "50.00"}"#,
    ] {
        let err = ledger.apply_json(e).unwrap_err();
        assert_eq!(err.code(), "event_conflict", "{e}");
    }
    let bytes = ledger.snapshot();
    let restored = Ledger::restore(&policy, &bytes).unwrap();
    assert_eq!(restored.snapshot(), bytes);
    assert_eq!(snapshot_events(&restored), canonical);
}
