//! docs/analysts.md runs as written: every `$ target/release/fenrun …` line
//! of its console blocks, from the repository root, prints the lines shown
//! under it (all of them, or up to a `…` line) and exits as shown (`(exit
//! status N)`, else 0).
#![allow(clippy::expect_used, clippy::panic)] // test code: a failed expectation is a test failure

use std::process::Command;

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
