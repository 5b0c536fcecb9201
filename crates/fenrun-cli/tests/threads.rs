//! `--threads N` settles order chunks apart and merges them: the document is
//! the one-thread document, byte for byte.
#![allow(clippy::expect_used)] // a test helper: a binary that does not start is a failed test

use std::path::PathBuf;
use std::process::Command;

fn fenrun(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fenrun"))
        .args(args)
        .output()
        .expect("the fenrun binary runs")
}

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
    let one = fenrun(&["settle", "--policy", policy, "--batch", b, "--no-lines"]);
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    for n in ["2", "3", "7"] {
        let many = fenrun(&[
            "settle",
            "--policy",
            policy,
            "--batch",
            b,
            "--no-lines",
            "--threads",
            n,
        ]);
        assert!(many.status.success());
        assert!(one.stdout == many.stdout, "{n} threads differ from one");
    }
    let refused = fenrun(&["settle", "--policy", policy, "--batch", b, "--threads", "2"]);
    assert!(
        !refused.status.success(),
        "--threads without --no-lines is refused"
    );
}
