//! What the command line says to a person: a JSON syntax error names the file
//! it is in, the summary shows the payout ratio as a percentage and says
//! where the lines went, and a command whose stderr is not a terminal shows
//! no progress.
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

#[test]
fn the_summary_says_where_the_lines_went() {
    // The bundled example has 36 lines (docs/analysts.md); streamed to a
    // file they are not in the document, and with --no-lines none is made.
    let (policy, batch) = (
        repo("examples/community-retail/policy.json"),
        repo("examples/community-retail/batch.json"),
    );
    let out = scratch("summary-settlement.json", "");
    let lines = scratch("summary-lines.csv", "");
    let last = |more: &[&str]| {
        let mut args = vec![
            "settle", "--policy", &policy, "--batch", &batch, "--out", &out,
        ];
        args.extend_from_slice(more);
        let run = fenrun(&args);
        let text = String::from_utf8_lossy(&run.stdout).into_owned();
        assert!(run.status.success(), "{text}");
        text.lines().last().expect("a summary").to_owned()
    };
    let tail = format!(", 9 beneficiaries; settlement written to {out}");
    assert_eq!(last(&[]), format!("36 lines{tail}"));
    assert_eq!(
        last(&["--lines-out", &lines]),
        format!("lines streamed to {lines}{tail}")
    );
    let written = std::fs::read_to_string(&lines).expect("the lines file");
    assert_eq!(written.lines().count(), 37, "a header and 36 lines");
    assert_eq!(
        last(&["--no-lines"]),
        format!("no lines (--no-lines){tail}")
    );
}
