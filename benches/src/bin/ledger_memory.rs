//! The heap a ledger holds once it took a period's events, against the
//! batch's engine holding the same period (docs/performance.md), counted by
//! an instrumented allocator (a binary of its own, so that the timing
//! benches run on the plain one).
//!
//! `ledger_memory MEMBERS ORDERS [POLICY.json|-] [immediate]` (the reference
//! policy by default, also for `-`; `immediate` sets its rank timing).

use std::alloc::System;
use std::process::ExitCode;

use fenrun::{Batch, Engine, Ledger};
use fenrun_benches::{ledger_data, ledger_policy, CHUNK};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not freed since `region` began, in GiB.
fn held(region: &Region<'_, System>) -> f64 {
    // A reallocation's growth counts in `bytes_allocated`, its shrinking
    // in `bytes_deallocated`.
    let change = region.change();
    let bytes = i128::try_from(change.bytes_allocated).unwrap_or(i128::MAX)
        - i128::try_from(change.bytes_deallocated).unwrap_or(i128::MAX);
    bytes as f64 / f64::from(1u32 << 30)
}

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let (members, orders): (usize, usize) = match args {
        [m, o, ..] => (m.parse()?, o.parse()?),
        _ => return Err("usage: ledger_memory MEMBERS ORDERS [POLICY.json|-] [immediate]".into()),
    };
    let (_, policy) = ledger_policy(
        args.get(2).map(String::as_str),
        args.get(3).map(String::as_str),
    )?;
    let data = ledger_data(members, orders)?;
    let region = Region::new(GLOBAL);
    let mut ledger = Ledger::open_json(&policy, &data.start)?;
    for chunk in data.lines.chunks(CHUNK) {
        for line in chunk {
            ledger.take_json(line)?;
        }
        ledger.catch_up()?;
    }
    let by_ledger = held(&region);
    drop(ledger);
    let region = Region::new(GLOBAL);
    let engine = Engine::new(&policy, Batch::from_json(&data.batch, &policy)?)?;
    let by_engine = held(&region);
    drop(engine);
    println!(
        "| heap held, {members} members / {orders} events: the ledger (events taken and settled) / the batch's engine | {by_ledger:.2} GiB / {by_engine:.2} GiB |"
    );
    Ok(())
}

fn main() -> ExitCode {
    fenrun_benches::run_main(run)
}
