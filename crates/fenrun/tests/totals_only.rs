//! The totals-only settlement (orders grouped by seller, amounts in integer
//! units) against the full one, on the cases it hands to the slow path:
//! refunded orders, and products that leave 64-bit units.

#![allow(clippy::unwrap_used)] // test code: a failed expectation is a test failure

use fenrun::{Batch, Engine, Lines, Policy, SettleOptions};

/// Totals as (member, amount) text.
type Totals = Vec<(String, String)>;

const POLICY: &str = r#"{"version": 1, "ranks": [{"id": "member"}],
  "rules": [{"id": "l", "type": "levels", "rates": ["0.10", "0.05"]}]}"#;

/// Totals-only and full settlement totals of `events` over m0 ← m1.
fn totals(events: &str) -> (Totals, Totals) {
    totals_under(POLICY, events)
}

/// The same under `policy`.
fn totals_under(policy: &str, events: &str) -> (Totals, Totals) {
    let policy = Policy::from_json(policy).unwrap();
    let batch = Batch::from_json(
        &format!(
            r#"{{"members": [{{"id": "m0"}}, {{"id": "m1", "sponsor": "m0"}}], "events": [{events}]}}"#
        ),
        &policy,
    )
    .unwrap();
    let engine = Engine::new(&policy, batch).unwrap();
    let list = |s: fenrun::Settlement| {
        s.totals()
            .map(|(m, t)| (m.to_owned(), t.to_string()))
            .collect::<Vec<_>>()
    };
    (
        list(
            engine
                .settle_with(SettleOptions::default().lines(Lines::TotalsOnly))
                .unwrap(),
        ),
        list(engine.settle().unwrap()),
    )
}

fn pairs(list: &[(&str, &str)]) -> Totals {
    list.iter()
        .map(|(m, t)| ((*m).to_owned(), (*t).to_owned()))
        .collect()
}

#[test]
fn a_refunded_order_is_settled_and_reversed() {
    // o2: m1 0.10 × 80 = 8.00, m0 0.05 × 80 = 4.00; r1 reverses 20/80 of
    // each: 2.00 and 1.00. o1: 10.00 and 5.00.
    // m1 = 10.00 + 8.00 - 2.00 = 16.00; m0 = 5.00 + 4.00 - 1.00 = 8.00.
    let (only, full) = totals(
        r#"{"id": "o1", "seller": "m1", "amount": "100.00"},
           {"id": "o2", "seller": "m1", "amount": "80.00"},
           {"id": "r1", "refund_of": "o2", "amount": "20.00"}"#,
    );
    let want = pairs(&[("m0", "8.00"), ("m1", "16.00")]);
    assert_eq!(only, want);
    assert_eq!(full, want);
}

#[test]
fn a_product_beyond_64_bit_units_is_settled_exactly() {
    // o1 is 5 × 10^18 cents: it fits i64 but is past the 2^51 units a
    // seller-grouped entry holds, so it is settled in Decimal (10 × that, rate
    // 0.10 as 10/100, would leave i64 anyway). m1: 0.10 × 50000000000000000.00 = 5000000000000000.00, plus
    // 10.00 (o2) and 8.00 - 2.00 (o3, r1); m0: 2500000000000000.00 + 5.00 + 3.00.
    let (only, full) = totals(
        r#"{"id": "o1", "seller": "m1", "amount": "50000000000000000.00"},
           {"id": "o2", "seller": "m1", "amount": "100.00"},
           {"id": "o3", "seller": "m1", "amount": "80.00"},
           {"id": "r1", "refund_of": "o3", "amount": "20.00"}"#,
    );
    let want = pairs(&[("m0", "2500000000000008.00"), ("m1", "5000000000000016.00")]);
    assert_eq!(only, want);
    assert_eq!(full, want);
}

#[test]
fn a_product_beyond_64_bit_units_of_a_smaller_order_is_settled_exactly() {
    // o1 is 10^15 cents: small enough for the seller-grouped entries, but
    // 0.1000001 is 1000001 / 10^7 and 10^15 × 1000001 leaves i64, so the
    // batch is settled again in input order.
    // m1: 0.1000001 × 10000000000000.00 = 1000001000000.00, and
    // 0.1000001 × 100.00 = 10.00001 → 10.00; m0: 0.05 × each = 500000000000.00 + 5.00.
    let policy = r#"{"version": 1, "ranks": [{"id": "member"}],
      "rules": [{"id": "l", "type": "levels", "rates": ["0.1000001", "0.05"]}]}"#;
    let (only, full) = totals_under(
        policy,
        r#"{"id": "o1", "seller": "m1", "amount": "10000000000000.00"},
           {"id": "o2", "seller": "m1", "amount": "100.00"}"#,
    );
    let want = pairs(&[("m0", "500000000005.00"), ("m1", "1000001000010.00")]);
    assert_eq!(only, want);
    assert_eq!(full, want);
}

#[test]
fn partial_refunds_never_reverse_more_than_a_line() {
    // o1 0.30: m1 0.10 × 0.30 = 0.03, m0 0.05 × 0.30 = 0.015 → 0.02 (half_up).
    // Four partial refunds of 0.06 (0.24 in all, so none completes the order):
    // m1's share of each is round(0.03 × 0.06 / 0.30) = round(0.006) = 0.01,
    // so the fourth would reverse past the line; it reverses what is left,
    // 0.00, and m1 ends at 0.03 − 0.03 = 0.00 (not −0.01). m0's share of each
    // is round(0.004) = 0.00: m0 keeps 0.02.
    let (only, full) = totals(
        r#"{"id": "o1", "seller": "m1", "amount": "0.30"},
           {"id": "r1", "refund_of": "o1", "amount": "0.06"},
           {"id": "r2", "refund_of": "o1", "amount": "0.06"},
           {"id": "r3", "refund_of": "o1", "amount": "0.06"},
           {"id": "r4", "refund_of": "o1", "amount": "0.06"}"#,
    );
    let want = pairs(&[("m0", "0.02"), ("m1", "0.00")]);
    assert_eq!(only, want);
    assert_eq!(full, want);
}

/// The engine owns what it settles: a service can keep it in shared state or
/// hand it to another thread, with no borrow to outlive.
#[test]
fn the_engine_owns_its_state() {
    fn owned<T: Send + Sync + 'static>(_: &T) {}
    let policy = Policy::from_json(
        r#"{"version": 1, "ranks": [{"id": "member", "rate": "0.10"}],
            "rules": [{"id": "d", "type": "differential"}]}"#,
    )
    .unwrap();
    let batch = Batch::from_json(
        r#"{"members": [{"id": "m1"}], "events": [{"id": "o1", "seller": "m1", "amount": "10.00"}]}"#,
        &policy,
    )
    .unwrap();
    let engine = Engine::new(&policy, batch).unwrap();
    drop(policy);
    owned(&engine);
    let settled = std::thread::spawn(move || engine.settle().unwrap())
        .join()
        .unwrap();
    assert_eq!(settled.total_of("m1").unwrap().to_string(), "1.00");
}

/// Every form of settlement counts each order once in its progress: 10,000
/// orders (and 100 refunds, which are not counted) on one thread, on three,
/// streamed and kept.
#[test]
fn progress_counts_every_order_once() {
    let policy = Policy::from_json(POLICY).unwrap();
    let mut events: Vec<String> = (0..10_000)
        .map(|i| {
            format!(
                r#"{{"id": "o{i}", "seller": "m{}", "amount": "10.00"}}"#,
                i % 2
            )
        })
        .collect();
    events.extend(
        (0..100).map(|i| format!(r#"{{"id": "r{i}", "refund_of": "o{i}", "amount": "1.00"}}"#)),
    );
    let batch = Batch::from_json(
        &format!(
            r#"{{"members": [{{"id": "m0"}}, {{"id": "m1", "sponsor": "m0"}}], "events": [{}]}}"#,
            events.join(",")
        ),
        &policy,
    )
    .unwrap();
    let engine = Engine::new(&policy, batch).unwrap();
    for options in [
        SettleOptions::default().lines(Lines::TotalsOnly),
        SettleOptions::default().lines(Lines::TotalsOnly).threads(3),
        SettleOptions::default().lines(Lines::Stream),
        SettleOptions::default(),
    ] {
        let progress = fenrun::SettleProgress::new();
        let plain = engine.settle_with(options.clone()).unwrap();
        let counted = engine
            .settle_with(options.progress(progress.clone()))
            .unwrap();
        assert_eq!((progress.settled(), progress.total()), (10_000, 10_000));
        // Counting changes nothing else.
        assert_eq!(counted.to_json(), plain.to_json());
    }
}
