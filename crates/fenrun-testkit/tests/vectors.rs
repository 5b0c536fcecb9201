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

/// Every vector's batch validated with its events pushed in chunks of 1, 2
/// and 3 ([`fenrun::BatchBuilder`], as a Parquet file's row groups are): the
/// same settlement, or the same error (code, path and message), as the whole
/// batch at once.
#[test]
fn every_vector_validates_the_same_in_chunks() {
    use fenrun::input::BatchRecords;
    use fenrun::{Batch, BatchBuilder, ErrorFamily, Policy};
    let vectors = load_vectors(&vectors_dir()).expect("vectors load");
    let (mut compared, mut errors) = (0, 0);
    let mut failures = Vec::new();
    for (path, v) in &vectors {
        let Ok(policy) = Policy::from_json(&v.policy_text()) else {
            continue;
        };
        let Some(text) = v.batch_text() else { continue };
        let Ok(records) = serde_json::from_str::<BatchRecords>(&text) else {
            continue;
        };
        // A document with member, group or `received` events (SPEC §14) has
        // no table form.
        if policy.version() >= 2
            && fenrun_testkit::is_stream_document(&serde_json::from_str(&text).unwrap_or_default())
        {
            continue;
        }
        let outcome = |b: fenrun::Result<Batch>| {
            b.and_then(|b| fenrun::settle(&policy, b))
                .map(|s| s.to_json())
                .map_err(|e| e.to_string())
        };
        let whole = Batch::from_json(&text, &policy);
        if whole
            .as_ref()
            .is_err_and(|e| e.family() == ErrorFamily::Format)
        {
            continue;
        }
        let whole = outcome(whole);
        errors += usize::from(whole.is_err());
        for (k, threads) in [(1, 1), (2, 2), (3, 1)] {
            let chunked = BatchBuilder::new(records.members.clone(), &records.groups, &policy)
                .and_then(|b| {
                    let mut b = b.threads(threads);
                    let pushed = records.events.chunks(k).try_for_each(|c| b.push_events(c));
                    // Repeated events (§14.2): the chunks taken again.
                    match b.finish_or_again(pushed)? {
                        fenrun::Finished::Batch(batch) => Ok(batch),
                        fenrun::Finished::Again(mut again) => {
                            records
                                .events
                                .chunks(k)
                                .try_for_each(|c| again.push_events(c))?;
                            again.finish()
                        }
                    }
                });
            let chunked = outcome(chunked);
            if chunked == whole {
                compared += 1;
            } else {
                failures.push(format!(
                    "{} in chunks of {k}: {chunked:?}\n  whole: {whole:?}",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        compared >= 270 && errors >= 20,
        "only {compared} runs compared, {errors} errors"
    );
}
