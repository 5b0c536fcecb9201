//! The bodies of the fuzz targets (`fuzz/fuzz_targets/*`), kept here so that the
//! ordinary test suite compiles them and the regression vectors replay them.
//! Each panics — which the fuzzer reports as a crash — when an invariant breaks.

// Panicking is how a fuzz target reports a finding.
#![allow(clippy::panic)]

use crate::world::{check_invariants, check_split_merge, World};

const SECTION8_POLICY: &str = include_str!("../../../examples/community-retail/policy.json");

fn listed(e: &fenrun::Error) {
    assert!(
        fenrun::Error::CODES.contains(&e.code()),
        "unlisted error code {}",
        e.code()
    );
    assert!(!e.path().is_empty(), "{} has no path", e.code());
}

/// Policy bytes: parse and validate; errors carry a listed code and a path.
pub fn policy_bytes(data: &[u8]) {
    if let Err(e) = fenrun::Policy::from_slice(data) {
        listed(&e);
    }
}

/// Batch bytes under the SPEC §8 policy: settle twice to the same bytes, or fail cleanly.
pub fn batch_bytes(data: &[u8]) {
    let Ok(policy) = fenrun::Policy::from_json(SECTION8_POLICY) else {
        panic!("the bundled policy is valid");
    };
    match fenrun::Batch::from_slice(data, &policy) {
        Err(e) => listed(&e),
        Ok(batch) => {
            let once = fenrun::settle(&policy, batch.clone()).map(|s| s.to_json());
            let twice = fenrun::settle(&policy, batch).map(|s| s.to_json());
            match (once, twice) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "settlement is not deterministic"),
                (Err(e), Err(f)) => {
                    listed(&e);
                    assert_eq!(e, f);
                }
                _ => panic!("two settlements of one batch disagree"),
            }
        }
    }
}

/// A structured world: SPEC §10 invariants and split-and-merge.
pub fn world(w: &World) {
    if let Err(e) = check_invariants(w) {
        panic!("invariant broken: {e}\nworld: {w:?}");
    }
    if let Err(e) = check_split_merge(w, 3) {
        panic!("split and merge broken: {e}\nworld: {w:?}");
    }
}
