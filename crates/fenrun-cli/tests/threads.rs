//! `--threads N` settles order chunks apart and merges them: the document is
//! the one-thread document, byte for byte.
#![allow(clippy::expect_used)] // a test helper: a binary that does not start is a failed test

use std::path::PathBuf;
mod common;
use common::fenrun;

#[test]
fn threads_give_the_one_thread_document() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("threads");
    let d = dir.to_str().expect("utf-8 path");
    let gen = fenrun(&[
        "gen",
        "--members",
        "3000",
        "--orders",
        "30000",
        "--seed",
        "5",
        "--out",
        d,
        "--format",
        "json",
    ]);
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );
    let policy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/reference-policy.json"
    );
    let batch = dir.join("batch.json");
    let b = batch.to_str().expect("utf-8 path");
    let settle = |n: &str, more: &[&str]| {
        let mut args = vec![
            "settle",
            "--policy",
            policy,
            "--batch",
            b,
            "--no-lines",
            "--threads",
            n,
        ];
        args.extend_from_slice(more);
        fenrun(&args)
    };
    let one = settle("1", &[]);
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    for n in ["2", "3", "7"] {
        let many = settle(n, &[]);
        assert!(many.status.success());
        assert!(one.stdout == many.stdout, "{n} threads differ from one");
    }
    // With both output files: on several threads they are written at once,
    // and are the one-thread files; a totals file that cannot be written is
    // an error on any number of threads.
    let files = |n: &str, totals: &PathBuf| {
        let out = dir.join(format!("settlement-{n}.json"));
        let out_path = out.to_str().expect("utf-8 path").to_owned();
        let totals = totals.to_str().expect("utf-8 path");
        let run = settle(n, &["--out", &out_path, "--totals-out", totals]);
        (run, out)
    };
    let read = |p: &PathBuf| std::fs::read(p).expect("an output file");
    let one_totals = dir.join("totals-1.csv");
    let (run, one_out) = files("1", &one_totals);
    assert!(run.status.success());
    let two_totals = dir.join("totals-2.csv");
    let (run, two_out) = files("2", &two_totals);
    assert!(run.status.success());
    assert!(read(&one_out) == read(&two_out), "documents differ");
    assert!(read(&one_totals) == read(&two_totals), "totals differ");
    assert!(read(&one_totals).starts_with(b"member,amount\n"));
    for n in ["1", "2"] {
        let (run, _) = files(n, &dir.join("no-such-dir").join("totals.csv"));
        assert!(!run.status.success(), "{n} threads");
        assert!(
            String::from_utf8_lossy(&run.stderr).contains("totals.csv"),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let refused = fenrun(&["settle", "--policy", policy, "--batch", b, "--threads", "2"]);
    assert!(
        !refused.status.success(),
        "--threads without --no-lines is refused"
    );
}
