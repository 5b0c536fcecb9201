//! docs/analysts.md runs as written: every `$ target/release/fenrun …` line
//! of its console blocks, from the repository root, prints the lines shown
//! under it (all of them, or up to a `…` line) and exits as shown (`(exit
//! status N)`, else 0).
#![allow(clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code: a failed expectation is a test failure

use std::process::Command;
mod common;
use common::scratch;

struct Step {
    args: Vec<String>,
    shown: Vec<String>,
    more: bool,
    status: i32,
}

fn steps(doc: &str) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    let mut inside = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            inside = line == "```console";
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ target/release/fenrun ") {
            out.push(Step {
                args: cmd.split_whitespace().map(str::to_owned).collect(),
                shown: Vec::new(),
                more: false,
                status: 0,
            });
        } else if let Some(step) = out.last_mut() {
            if line == "…" {
                step.more = true;
            } else if let Some(n) = line
                .strip_prefix("(exit status ")
                .and_then(|r| r.strip_suffix(')'))
            {
                step.status = n.parse().expect("an exit status");
            } else {
                step.shown.push(line.to_owned());
            }
        }
    }
    out
}

#[test]
fn the_analysts_walkthrough_runs_as_written() {
    let root = format!("{}/../..", env!("CARGO_MANIFEST_DIR"));
    let doc =
        std::fs::read_to_string(format!("{root}/docs/analysts.md")).expect("docs/analysts.md");
    let steps = steps(&doc);
    assert!(steps.len() >= 4, "{} commands found", steps.len());
    std::fs::create_dir_all(format!("{root}/target")).expect("target/");
    for step in steps {
        let out = Command::new(env!("CARGO_BIN_EXE_fenrun"))
            .args(&step.args)
            .current_dir(&root)
            .output()
            .expect("fenrun runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        let what = step.args.join(" ");
        assert_eq!(
            out.status.code(),
            Some(step.status),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if step.more {
            assert!(
                lines.len() > step.shown.len(),
                "{what}: no more lines than shown"
            );
            assert_eq!(lines[..step.shown.len()], step.shown, "{what}");
        } else {
            assert_eq!(lines, step.shown, "{what}");
        }
    }
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let root = format!("{}/../..", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_fenrun"))
        .args(args)
        .current_dir(&root)
        .output()
        .expect("fenrun runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn lint_exits_by_severity_and_deny_warnings_fails_on_warnings() {
    // Two levels under cn-distribution: a team_compensation warning only.
    let policy = scratch(
        "two-levels.json",
        r#"{"version": 1, "ranks": [{"id": "member"}], "rules": [{"id": "dist", "type": "levels", "rates": ["0.10", "0.05"]}]}"#,
    );
    let (code, out, _) = run(&["lint", "--policy", &policy, "--profile", "cn-distribution"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with("warning[team_compensation] rules[0].rates[1]: "),
        "{out}"
    );
    let (code, _, _) = run(&[
        "lint",
        "--policy",
        &policy,
        "--profile",
        "cn-distribution",
        "--deny",
        "warnings",
    ]);
    assert_eq!(code, Some(3));
    // The same policy is an error for a licensed direct seller.
    let (code, out, _) = run(&[
        "lint",
        "--policy",
        &policy,
        "--profile",
        "cn-direct-selling",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(3));
    assert!(out.starts_with(r#"{"profile":"cn-direct-selling","errors":1,"warnings":0,"findings":[{"code":"team_compensation","severity":"error","path":"rules[0].rates[1]""#), "{out}");
    // An invalid policy is an input error (1), not a finding.
    let broken = scratch("broken.json", r#"{"version": 1, "ranks": []}"#);
    let (code, _, err) = run(&["lint", "--policy", &broken, "--profile", "ftc"]);
    assert_eq!(code, Some(1), "{err}");
}

#[test]
fn diff_names_the_policy_in_error_and_needs_two() {
    let good = "examples/community-retail/policy.json";
    let batch = "examples/community-retail/batch.json";
    let bad = scratch(
        "bad-rate.json",
        r#"{"version": 1, "ranks": [{"id": "member", "rate": "1.5"}], "rules": []}"#,
    );
    let (code, _, err) = run(&["diff", "--policy", good, "--policy", &bad, "--batch", batch]);
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with(&format!("error[rate_out_of_range]: {bad}: ranks[0].rate")),
        "{err}"
    );
    let (code, _, err) = run(&["diff", "--policy", good, "--batch", batch]);
    assert_eq!(code, Some(2), "{err}");
    // Without a batch: a usage error too.
    let (code, _, err) = run(&["diff", "--policy", good, "--policy", good]);
    assert_eq!(
        (code, err.trim()),
        (Some(2), "error: give --batch, or --members and --orders")
    );
    // --stats belongs to the JSON document.
    let (code, _, _) = run(&[
        "settle", "--policy", good, "--batch", batch, "--stats", "--format", "csv",
    ]);
    assert_eq!(code, Some(2));
}

#[test]
fn settle_stats_are_the_same_with_and_without_lines() {
    let args = [
        "settle",
        "--policy",
        "examples/community-retail/policy.json",
        "--batch",
        "examples/community-retail/batch.json",
        "--stats",
    ];
    let (_, kept, _) = run(&args);
    let with_no_lines: Vec<&str> = args.iter().copied().chain(["--no-lines"]).collect();
    let (_, totals, _) = run(&with_no_lines);
    let stats = |doc: &str| {
        let v: serde_json::Value = serde_json::from_str(doc).expect("JSON");
        v["summary"]["stats"].clone()
    };
    assert_eq!(stats(&kept), stats(&totals));
    assert_eq!(stats(&kept)["sources"]["team"], "24219.00");
}
