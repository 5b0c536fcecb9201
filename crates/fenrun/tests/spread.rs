//! Sums and parts of a settlement spread over machines (SPEC §10.6) are
//! refused, with `invalid_part`, when they do not belong to the engine that
//! reads them; an `immediate` policy is refused with `not_splittable`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is a test failure

use fenrun::{Batch, Engine, Policy, Sums};

fn policy(extra: &str) -> Policy {
    Policy::from_json(&format!(
        r#"{{"version": 2, {extra} "evaluate_ranks": true,
        "ranks": [{{"id": "member"}}, {{"id": "owner", "rate": "0.10",
                   "upgrade": {{"metric": "sales", "gte": 100}}}}],
        "rules": [{{"id": "spread", "type": "differential"}}]}}"#
    ))
    .unwrap()
}

fn batch(policy: &Policy, members: &str, events: &str) -> Batch {
    Batch::from_json(
        &format!(r#"{{"members": {members}, "events": {events}}}"#),
        policy,
    )
    .unwrap()
}

const MEMBERS: &str = r#"[{"id": "m1"}, {"id": "m2", "sponsor": "m1"}]"#;
const ORDER: &str = r#"[{"id": "o1", "seller": "m2", "amount": "60.00"}]"#;

#[test]
fn an_immediate_policy_is_not_splittable() {
    let p = policy(r#""rank_timing": "immediate","#);
    let b = batch(&p, MEMBERS, ORDER);
    let err = Sums::of(&p, &b).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("not_splittable", "policy.rank_timing")
    );
    assert!(err.to_string().contains("sequential"), "{err}");
    // Sums made under the same policy in period_end timing do not help.
    let period_end = policy("");
    let sums = Sums::of(&period_end, &batch(&period_end, MEMBERS, ORDER)).unwrap();
    let err = Engine::with_sums(&p, b, &sums).unwrap_err();
    assert_eq!(err.code(), "not_splittable");
}

#[test]
fn sums_of_another_member_table_or_policy_are_invalid_parts() {
    let p = policy("");
    let sums = Sums::of(&p, &batch(&p, MEMBERS, ORDER)).unwrap();
    // The same ids with another sponsor: indices agree, the tree does not.
    let moved = batch(&p, r#"[{"id": "m1"}, {"id": "m2"}]"#, "[]");
    let err = Engine::with_sums(&p, moved, &sums).unwrap_err();
    assert_eq!((err.code(), err.path()), ("invalid_part", "sums"));
    let other = Sums::of(&p, &batch(&p, r#"[{"id": "m1"}, {"id": "m3"}]"#, "[]")).unwrap();
    assert_eq!(
        sums.clone().merge(other).unwrap_err().code(),
        "invalid_part"
    );
    let none = Sums::merge_all(Vec::new()).unwrap_err();
    assert_eq!((none.code(), none.path()), ("invalid_part", "sums"));
    let q = policy(r#""currency": "CNY","#);
    let err = Engine::with_sums(&q, batch(&q, MEMBERS, "[]"), &sums).unwrap_err();
    assert_eq!(err.code(), "invalid_part");
}

#[test]
fn corrupt_truncated_and_other_version_bytes_are_invalid_parts() {
    let p = policy("");
    let sums = Sums::of(&p, &batch(&p, MEMBERS, ORDER)).unwrap();
    let bytes = sums.to_bytes();
    assert_eq!(Sums::from_bytes(&bytes).unwrap(), sums);
    let text = String::from_utf8(bytes.clone()).unwrap();
    let cases = [
        bytes[..bytes.len() - 12].to_vec(),
        text.replacen("fenrun-sums 1", "fenrun-sums 2", 1)
            .into_bytes(),
        text.replacen("fenrun-sums", "fenrun-part", 1).into_bytes(),
        text.replacen("\"rows\":1", "\"rows\":2", 1).into_bytes(),
        text.replacen("\"rows\":1", "\"rows\":0", 1).into_bytes(),
        text.replacen("\n1\t", "\n9\t", 1).into_bytes(),
        text.replacen("60", "6x", 1).into_bytes(),
        vec![0xff, 0xfe],
    ];
    for bad in cases {
        let err = Sums::from_bytes(&bad).unwrap_err();
        assert_eq!(err.code(), "invalid_part", "{err}");
    }
    let engine = Engine::with_sums(&p, batch(&p, MEMBERS, ORDER), &sums).unwrap();
    let part = engine
        .part_bytes(&engine.settle_part(|_| true).unwrap())
        .unwrap();
    assert!(engine.read_part(&part).is_ok());
    let q = policy(r#""currency": "CNY","#);
    let sums_q = Sums::of(&q, &batch(&q, MEMBERS, "[]")).unwrap();
    let other = Engine::with_sums(&q, batch(&q, MEMBERS, "[]"), &sums_q).unwrap();
    let err = other.read_part(&part).unwrap_err();
    assert_eq!((err.code(), err.path()), ("invalid_part", "part"));
    assert_eq!(
        engine
            .read_part(&part[..part.len() - 3])
            .unwrap_err()
            .code(),
        "invalid_part"
    );
}
