//! Replays every golden vector in `tests/vectors/` through the Rust library.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

use fenrun_testkit::{load_vectors, run_vector, vectors_dir};

#[test]
fn every_vector_passes() {
    let vectors = load_vectors(&vectors_dir()).expect("vectors load");
    assert!(vectors.len() >= 25, "only {} vectors", vectors.len());
    let mut failures = Vec::new();
    for (path, v) in &vectors {
        if let Err(e) = run_vector(v) {
            failures.push(format!("{} ({}): {e}", path.display(), v.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n\n")
    );
}
