//! Settles a batch totals-only, for profilers: `settle_only POLICY BATCH`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a measuring tool

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let policy = fenrun::Policy::from_json(&std::fs::read_to_string(&args[1]).unwrap()).unwrap();
    let batch = fenrun::Batch::from_slice(&std::fs::read(&args[2]).unwrap(), &policy).unwrap();
    let engine = fenrun::Engine::new(&policy, batch).unwrap();
    let s = engine
        .settle_with(fenrun::SettleOptions::default().lines(fenrun::Lines::Stream))
        .unwrap();
    println!("{}", s.total_paid());
}
