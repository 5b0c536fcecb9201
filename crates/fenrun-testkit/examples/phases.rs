//! Times each phase of a settlement: `cargo run --release -p fenrun-testkit --example phases -- POLICY BATCH`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // a measuring tool

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let t = Instant::now();
    let policy_text = std::fs::read_to_string(&args[1]).unwrap();
    let batch_text = std::fs::read(&args[2]).unwrap();
    println!("read            {:>8.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let policy = fenrun::Policy::from_json(&policy_text).unwrap();
    let batch = fenrun::Batch::from_slice(&batch_text, &policy).unwrap();
    println!("parse+validate  {:>8.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let engine = fenrun::Engine::new(&policy, batch).unwrap();
    println!("ranks+prepare   {:>8.3} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let s = engine.settle().unwrap();
    println!(
        "settle          {:>8.3} s  ({} lines)",
        t.elapsed().as_secs_f64(),
        s.line_count()
    );
    let t = Instant::now();
    let json = s.to_json();
    println!(
        "to_json         {:>8.3} s  ({} bytes)",
        t.elapsed().as_secs_f64(),
        json.len()
    );
}
