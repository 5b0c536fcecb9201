//! No input reaches a panic: every vector and 10,000 mutations of them go through
//! the JSON boundary under `catch_unwind`, and each either settles or fails with a
//! known error code.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

use std::panic::{catch_unwind, AssertUnwindSafe};

use fenrun_testkit::{load_vectors, vectors_dir};

/// Run both JSON entry points; `Err` describes a panic or an unknown code.
fn survive(policy: &[u8], batch: &[u8]) -> Result<(), String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let p = fenrun::Policy::from_slice(policy);
        match &p {
            Ok(p) => vec![fenrun::Batch::from_slice(batch, p).and_then(|b| {
                let engine = fenrun::Engine::new(p, b)?;
                let s = engine.settle()?;
                let _ = s.to_json();
                let _ = engine.explain("o1");
                Ok(())
            })],
            Err(_) => vec![p.map(|_| ())],
        }
    }));
    match outcome {
        Err(_) => Err("panicked".into()),
        Ok(results) => {
            for r in results {
                if let Err(e) = r {
                    if !fenrun::Error::CODES.contains(&e.code()) {
                        return Err(format!("unlisted code {}", e.code()));
                    }
                    if e.path().is_empty() {
                        return Err(format!("{} without a path", e.code()));
                    }
                }
            }
            Ok(())
        }
    }
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SPLICES: &[&str] = &[
    "12.5",
    "-1",
    "0",
    "1e400",
    "\"\"",
    "null",
    "[]",
    "{}",
    "\"-0.00\"",
    "\"1.005\"",
    "99999999999999999999999999999999",
    "\"79228162514264337593543950335\"",
    "true",
    "\"m1\"",
    "\"o1\"",
    "\"\u{1F600}\"",
    "\"2026-02-30T10:00:00Z\"",
    "-9223372036854775809",
    "18446744073709551616",
    "\"\\u0000\"",
];

fn mutate(rng: &mut Rng, text: &[u8]) -> Vec<u8> {
    let mut t = text.to_vec();
    for _ in 0..1 + rng.below(3) {
        if t.is_empty() {
            break;
        }
        let at = rng.below(t.len());
        match rng.below(6) {
            0 => t.truncate(at),
            1 => {
                t.remove(at);
            }
            2 => t[at] = (rng.next() & 0xff) as u8,
            3 => {
                let s = SPLICES[rng.below(SPLICES.len())].as_bytes();
                // Replace a JSON value-ish token: from `at` to the next , } or ].
                let end = t[at..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']'))
                    .map_or(t.len(), |p| at + p);
                t.splice(at..end, s.iter().copied());
            }
            4 => {
                let dup: Vec<u8> = t[at..t.len().min(at + 40)].to_vec();
                t.splice(at..at, dup);
            }
            _ => t.insert(at, b"{[\",:}]"[rng.below(7)]),
        }
    }
    t
}

#[test]
fn vectors_and_ten_thousand_mutations_never_panic() {
    let vectors = load_vectors(&vectors_dir()).unwrap();
    let inputs: Vec<(Vec<u8>, Vec<u8>)> = vectors
        .iter()
        .map(|(_, v)| {
            (
                v.policy_text().into_bytes(),
                v.batch_text()
                    .unwrap_or_else(|| r#"{"members":[],"events":[]}"#.into())
                    .into_bytes(),
            )
        })
        .collect();
    for (p, b) in &inputs {
        survive(p, b).unwrap();
    }
    let mut rng = Rng(0x5eed_f00d_1234_5678);
    let mut failures = Vec::new();
    for k in 0..10_000 {
        let (p, b) = &inputs[rng.below(inputs.len())];
        let (p, b) = if k % 2 == 0 {
            (mutate(&mut rng, p), b.clone())
        } else {
            (p.clone(), mutate(&mut rng, b))
        };
        if let Err(e) = survive(&p, &b) {
            failures.push(format!(
                "{e}\n  policy: {}\n  batch: {}",
                String::from_utf8_lossy(&p),
                String::from_utf8_lossy(&b)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n")
    );
}

#[test]
fn non_utf8_is_invalid_json() {
    let err = fenrun::Policy::from_slice(b"{\"version\": 1, \"ranks\": [{\"id\": \"\xff\"}]}")
        .unwrap_err();
    assert_eq!(err.code(), "invalid_json");
    assert_eq!(err.path(), "byte 33"); // the 33-byte prefix `{"version": 1, "ranks": [{"id": "` is valid
}

#[test]
fn a_long_cycle_names_every_member_but_prints_twenty() {
    let n = 100_000;
    let members: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"id":"m{i:06}","sponsor":"m{:06}"}}"#, (i + 1) % n))
        .collect();
    let batch = format!(r#"{{"members":[{}],"events":[]}}"#, members.join(","));
    let policy = fenrun::Policy::from_json(r#"{"version":1,"ranks":[{"id":"member"}]}"#).unwrap();
    let err = fenrun::Batch::from_json(&batch, &policy).unwrap_err();
    assert_eq!(err.code(), "sponsor_cycle");
    assert_eq!(err.path(), "members[0].sponsor");
    match &err {
        fenrun::Error::SponsorCycle { cycle, .. } => {
            assert_eq!(cycle.len(), n);
            assert_eq!(cycle[0], "m000000");
            assert_eq!(cycle[1], "m000001");
        }
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("… (100000 members in all)"), "{msg}");
    assert!(msg.len() < 1_000);
}
