//! What the command-line tests share: running the built binary.
#![allow(clippy::expect_used)] // a test helper: a binary that does not start is a failed test

use std::process::Command;

/// Run `fenrun` with `args` and wait for it.
pub fn fenrun(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fenrun"))
        .args(args)
        .output()
        .expect("the fenrun binary runs")
}
