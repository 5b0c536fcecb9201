//! criterion benches: tree build + validation, rank evaluation, each order rule alone,
//! the full reference policy at 10k and 100k members (10 orders each; 1M with
//! FENRUN_BENCH_LARGE=1), and one chain of 100,000 members with 10 orders each.
//! Run: `cargo bench -p fenrun-benches` (see docs/performance.md).

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench set-up: generated inputs
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use fenrun::{Batch, Engine, Lines, Policy, SettleOptions};
use fenrun_benches::{batch_json, chain_json, load, single_rule_policy, REFERENCE_POLICY, RULES};

fn sizes() -> Vec<usize> {
    let mut s = vec![10_000, 100_000];
    if std::env::var_os("FENRUN_BENCH_LARGE").is_some() {
        s.push(1_000_000);
    }
    s
}

fn build_and_ranks(c: &mut Criterion) {
    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    let policy = Policy::from_json(REFERENCE_POLICY).unwrap();
    for n in sizes() {
        let json = batch_json(n, 10 * n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new("parse_validate_tree", n),
            &json,
            |b, json| b.iter(|| Batch::from_json(json, &policy).unwrap()),
        );
        let batch = Batch::from_json(&json, &policy).unwrap();
        g.bench_with_input(
            BenchmarkId::new("rank_evaluation", n),
            &batch,
            |b, batch| {
                b.iter_batched(
                    || batch.clone(),
                    |batch| Engine::new(&policy, batch).unwrap(),
                    BatchSize::LargeInput,
                )
            },
        );
    }
    g.finish();
}

fn rules_alone(c: &mut Criterion) {
    let mut g = c.benchmark_group("rule");
    g.sample_size(10);
    let n = 100_000;
    let json = batch_json(n, 10 * n);
    for (name, rule) in RULES {
        let (policy, batch) = load(&single_rule_policy(rule), &json);
        let engine = Engine::new(&policy, batch).unwrap();
        let stream = SettleOptions::default().lines(Lines::Stream);
        g.throughput(Throughput::Elements(10 * n as u64));
        g.bench_function(BenchmarkId::new(name, n), |b| {
            b.iter(|| engine.settle_with(stream.clone()).unwrap())
        });
    }
    g.finish();
}

/// Time ranks, prepared links, every order, pools and totals (no line named or kept).
fn bench_totals(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    n: usize,
    elements: usize,
    policy: &Policy,
    batch: &Batch,
) {
    g.throughput(Throughput::Elements(elements as u64));
    g.bench_function(BenchmarkId::new("settle_totals", n), |b| {
        let totals = SettleOptions::default().lines(Lines::TotalsOnly);
        b.iter_batched(
            || batch.clone(),
            |batch| {
                Engine::new(policy, batch)
                    .unwrap()
                    .settle_with(totals.clone())
                    .unwrap()
            },
            BatchSize::LargeInput,
        )
    });
}

fn reference_policy(c: &mut Criterion) {
    let mut g = c.benchmark_group("reference_policy");
    g.sample_size(10);
    for n in sizes() {
        let (policy, batch) = load(REFERENCE_POLICY, &batch_json(n, 10 * n));
        bench_totals(&mut g, n, 10 * n, &policy, &batch);
    }
    g.finish();
}

fn deep_chain(c: &mut Criterion) {
    let mut g = c.benchmark_group("chain");
    g.sample_size(10);
    let n = 100_000;
    // Ten orders a member, as the bushy reference batch has: only the shape differs.
    let (policy, batch) = load(REFERENCE_POLICY, &chain_json(n, 10));
    bench_totals(&mut g, n, 10 * n, &policy, &batch);
    g.finish();
}

criterion_group!(
    benches,
    build_and_ranks,
    rules_alone,
    reference_policy,
    deep_chain
);
criterion_main!(benches);
