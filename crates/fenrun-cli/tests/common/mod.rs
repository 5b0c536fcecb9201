//! What the command-line tests share: running the built binary.
#![allow(clippy::expect_used)] // a test helper: a binary that does not start is a failed test
#![allow(dead_code)] // each test binary uses some of these helpers

use std::process::Command;

/// Run `fenrun` with `args` and wait for it.
pub fn fenrun(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fenrun"))
        .args(args)
        .output()
        .expect("the fenrun binary runs")
}

/// Write `text` to a scratch file `name` (under the target's temporary
/// directory) and return its path.
pub fn scratch(name: &str, text: &str) -> String {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("a scratch file");
    path.to_str().expect("utf-8 path").to_owned()
}
