//! What the command line says to a person: a JSON syntax error names the file
//! it is in, the summary shows the payout ratio as a percentage, and a
//! command whose stderr is not a terminal shows no progress.
#![allow(clippy::expect_used)] // a test helper: a binary that does not start is a failed test

mod common;
use common::{fenrun, scratch};

fn repo(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_json_syntax_error_names_its_file() {
    // Column 25 of the policy is the `}` where a rank object should start.
    let policy = scratch("broken-policy.json", r#"{"version": 1, "ranks": [}"#);
    let batch = repo("examples/community-retail/batch.json");
    let out = fenrun(&["settle", "--policy", &policy, "--batch", &batch]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.starts_with(&format!(
            "error[invalid_json]: {policy}: line 1 column 26: invalid JSON: "
        )),
        "{err}"
    );

    let good = repo("examples/community-retail/policy.json");
    let batch = scratch("broken-batch.json", "{\"members\": [],\n \"events\": [,]}");
    let out = fenrun(&["settle", "--policy", &good, "--batch", &batch]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "error[invalid_json]: {batch}: line 2 column 13: invalid JSON: "
        )),
        "{err}"
    );
}

#[test]
fn the_summary_shows_the_payout_ratio_in_percent() {
    // The bundled example pays 66147.00 of 300650.00 net sales:
    // 66147 / 300650 = 0.220013… → 22.00 %.
    let out = fenrun(&[
        "settle",
        "--policy",
        &repo("examples/community-retail/policy.json"),
        "--batch",
        &repo("examples/community-retail/batch.json"),
        "--out",
        &scratch("settlement.json", ""),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // stderr is a pipe here: no progress display, nothing at all.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("payout ratio"))
        .expect("a payout ratio line");
    assert!(line.ends_with(" 22.00 %"), "{line}");
}
