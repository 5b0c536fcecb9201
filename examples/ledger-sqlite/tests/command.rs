//! The README's commands: open the community-retail period, apply today's
//! events twice (the second run all duplicates), settle.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::process::Command;

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ledger-sqlite"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_readme_commands() {
    let db = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("shop.sqlite");
    let _ = std::fs::remove_file(&db);
    let db = db.to_str().unwrap();
    let policy = "examples/community-retail/policy.json";
    let batch = "examples/community-retail/batch.json";
    let today = "examples/ledger-sqlite/today.jsonl";
    assert_eq!(
        run(&[db, policy, "open", batch]),
        "13 events in the period\n"
    );
    assert_eq!(
        run(&[db, policy, "apply", today]),
        "applied 4, duplicates 1; 17 events in the period\n"
    );
    assert_eq!(
        run(&[db, policy, "apply", today]),
        "applied 0, duplicates 5; 17 events in the period\n"
    );
    let settled = run(&[db, policy, "settle"]);

    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
    let read = |p: &str| std::fs::read_to_string(format!("{root}{p}")).unwrap();
    let p = fenrun::Policy::from_json(&read(policy)).unwrap();
    let mut ledger = fenrun::Ledger::open_json(&p, &read(batch)).unwrap();
    ledger.apply_json_lines(&read(today)).unwrap();
    assert_eq!(
        settled,
        format!("{}\n", ledger.settlement().unwrap().to_json())
    );
}
