//! `fenrun schema` prints the core's policy grammar: the same document as
//! `fenrun::schema()`, one line of JSON.
#![allow(clippy::expect_used)] // a test helper: a binary that does not start is a failed test

use std::process::Command;

#[test]
fn schema_prints_the_cores_grammar() {
    let out = Command::new(env!("CARGO_BIN_EXE_fenrun"))
        .arg("schema")
        .output()
        .expect("the fenrun binary runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(text, format!("{}\n", fenrun::schema().to_json()));
    for kind in ["levels", "differential", "peer", "pool"] {
        assert!(
            text.contains(&format!(r#"{{"type":"{kind}","fields":"#)),
            "{kind}"
        );
    }
}
