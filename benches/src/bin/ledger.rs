//! The ledger against batch settlement on the same generated data, in one
//! run (docs/performance.md): the events taken as JSON lines and caught up
//! every thousand, then settled (totals only), against the batch document
//! parsed and settled (totals only); the latency of one `apply` (each
//! answering with its lines in `immediate` timing) over the first million
//! events; snapshot and restore.
//!
//! `ledger MEMBERS ORDERS [ROUNDS] [POLICY.json|-] [immediate]` (default 3
//! rounds, the reference policy, also for `-`). The two sides alternate;
//! medians are printed. The totals of both sides are checked equal. With
//! `immediate`, the policy is set to rank timing `immediate` (SPEC §13): both
//! sides then replay the events in order, and each round also settles the
//! batch in `period_end` timing, the figure the ratio is taken against.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use fenrun::{Batch, Engine, Ledger, Lines, SettleOptions};
use fenrun_benches::{ledger_data, ledger_policy, CHUNK};

/// Events applied one at a time for the latency of one `apply`.
const LATENCY_EVENTS: usize = 1_000_000;

fn totals() -> SettleOptions {
    SettleOptions::default().lines(Lines::TotalsOnly)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let (members, orders): (usize, usize) = match args {
        [m, o, ..] => (m.parse()?, o.parse()?),
        _ => return Err("usage: ledger MEMBERS ORDERS [ROUNDS] [POLICY.json]".into()),
    };
    let rounds: usize = args.get(2).map(|r| r.parse()).transpose()?.unwrap_or(3);
    let immediate = args.get(4).is_some_and(|a| a == "immediate");
    let (base, policy) = ledger_policy(
        args.get(3).map(String::as_str),
        args.get(4).map(String::as_str),
    )?;
    let data = ledger_data(members, orders)?;
    let (mut batch_t, mut ledger_t, mut apply_t) = (Vec::new(), Vec::new(), Vec::new());
    let mut period_end_t = Vec::new();
    let mut latencies: Vec<u32> = Vec::with_capacity(LATENCY_EVENTS);
    let mut last = None;
    for _ in 0..rounds {
        if immediate {
            let t = Instant::now();
            let engine = Engine::new(&base, Batch::from_json(&data.batch, &base)?)?;
            engine.settle_with(totals())?;
            period_end_t.push(t.elapsed());
        }
        let t = Instant::now();
        let engine = Engine::new(&policy, Batch::from_json(&data.batch, &policy)?)?;
        let by_batch = engine.settle_with(totals())?.to_json();
        batch_t.push(t.elapsed());
        drop(engine);

        let t = Instant::now();
        let mut ledger = Ledger::open_json(&policy, &data.start)?;
        for chunk in data.lines.chunks(CHUNK) {
            for line in chunk {
                ledger.take_json(line)?;
            }
            ledger.catch_up()?;
        }
        apply_t.push(t.elapsed());
        let by_ledger = ledger.settlement_with(totals())?.to_json();
        ledger_t.push(t.elapsed());
        if by_ledger != by_batch {
            return Err("the ledger's totals differ from the batch's".into());
        }
        last = Some(ledger);
    }
    let ledger = last.ok_or("no rounds")?;
    // One `apply` at a time, each answering with its lines (in `immediate`
    // timing), over the first events of the stream.
    let mut one_by_one = Ledger::open_json(&policy, &data.start)?;
    for line in data.lines.iter().take(LATENCY_EVENTS) {
        let one = Instant::now();
        one_by_one.apply_json(line)?;
        latencies.push(u32::try_from(one.elapsed().as_nanos()).unwrap_or(u32::MAX));
    }
    drop(one_by_one);
    latencies.sort_unstable();
    let pick = |q: f64| {
        let k = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(k).copied().unwrap_or(0)
    };
    let t = Instant::now();
    let snapshot = ledger.snapshot();
    let snapshot_t = t.elapsed();
    let t = Instant::now();
    let restored = Ledger::restore(&policy, &snapshot)?;
    let restore_t = t.elapsed();
    if restored.len() != ledger.len() {
        return Err("the restored ledger lost events".into());
    }
    // The ratio of each round's pair (taken minutes apart at most), then
    // their median: steadier on a shared machine than a ratio of medians.
    let against = if immediate { &period_end_t } else { &batch_t };
    let mut ratios: Vec<f64> = against
        .iter()
        .zip(&ledger_t)
        .map(|(b, l)| l.as_secs_f64() / b.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios.get(ratios.len() / 2).copied().unwrap_or(0.0);
    let (b, l) = (median(batch_t), median(ledger_t));
    let timing = if immediate { "immediate" } else { "period_end" };
    println!("| what | {members} members / {orders} events, medians of {rounds} |");
    println!("|---|---:|");
    if immediate {
        println!(
            "| batch, `period_end` timing: parse, validate, rank, settle (totals only) | {} |",
            secs(median(period_end_t))
        );
    }
    println!(
        "| batch, `{timing}` timing: parse, validate, rank, settle (totals only) | {} |",
        secs(b)
    );
    let vs = if immediate {
        "the `period_end` batch"
    } else {
        "the batch"
    };
    println!(
        "| ledger, `{timing}`: open, take each event (JSON line), catch up every {CHUNK}, settle (totals only) | {} ({ratio:.2}× {vs}; rounds {}) |",
        secs(l),
        ratios
            .iter()
            .map(|r| format!("{r:.2}×"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "| of which taking and settling the events | {} |",
        secs(median(apply_t))
    );
    println!(
        "| one `apply` (with its lines), over the first {} events: median / p99 / max | {:.1} µs / {:.1} µs / {:.0} µs |",
        latencies.len(),
        f64::from(pick(0.5)) / 1e3,
        f64::from(pick(0.99)) / 1e3,
        f64::from(pick(1.0)) / 1e3
    );
    println!(
        "| snapshot: time, size | {}, {:.0} MiB |",
        secs(snapshot_t),
        snapshot.len() as f64 / (1024.0 * 1024.0)
    );
    println!("| restore | {} |", secs(restore_t));
    Ok(())
}

fn main() -> ExitCode {
    fenrun_benches::run_main(run)
}
