//! Every error code of the library is exercised by at least one golden vector,
//! so every language's suite checks it (docs/errors.md lists them all).

use std::collections::BTreeSet;

use fenrun_testkit::{load_vectors, vectors_dir};

#[test]
fn every_error_code_has_a_vector() {
    let vectors = load_vectors(&vectors_dir()).expect("vectors load");
    let covered: BTreeSet<&str> = vectors
        .iter()
        .filter_map(|(_, v)| v.expect_error.as_ref().map(|e| e.code.as_str()))
        .collect();
    // `order_not_settled` is only reachable through explain; see
    // explain_unknown_order below. `internal` is what a bug gives, which no
    // input may reach. `invalid_part` and `not_splittable` belong to a
    // settlement spread over machines (crates/fenrun/tests/spread.rs and the
    // Python package's Spark tests), which no single document reaches.
    let missing: Vec<&&str> = fenrun::Error::CODES
        .iter()
        .filter(|c| {
            ![
                "order_not_settled",
                "sink_error",
                "invalid_table",
                "number_money",
                "invalid_part",
                "not_splittable",
                "internal",
            ]
            .contains(*c)
                && !covered.contains(**c)
        })
        .collect();
    assert!(missing.is_empty(), "codes without a vector: {missing:?}");
    for code in &covered {
        assert!(
            fenrun::Error::CODES.contains(code),
            "vector names unknown code {code}"
        );
    }
}

#[test]
fn explain_unknown_order() {
    let policy = r#"{"version":1,"ranks":[{"id":"member"}]}"#;
    let batch = r#"{"members":[{"id":"m1"}],"events":[{"id":"o1","seller":"m1","amount":"1"},{"id":"r1","refund_of":"o1","amount":"1"}]}"#;
    for id in ["o9", "r1"] {
        let err = fenrun::explain_json(policy, batch, id).unwrap_err();
        assert_eq!(err.code(), "order_not_settled");
        assert_eq!(err.path(), "order");
    }
}

#[test]
fn docs_list_every_code() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors.md"),
    )
    .expect("docs/errors.md");
    for code in fenrun::Error::CODES {
        assert!(
            doc.contains(&format!("`{code}`")),
            "docs/errors.md lacks `{code}`"
        );
    }
}

#[test]
fn a_failing_sink_stops_with_sink_error() {
    let policy = fenrun::Policy::from_json(
        r#"{"version":1,"ranks":[{"id":"member","rate":"0.1"}],"rules":[{"id":"d","type":"differential"}]}"#,
    )
    .unwrap();
    let batch = fenrun::Batch::from_json(
        r#"{"members":[{"id":"m1"}],"events":[{"id":"o1","seller":"m1","amount":"10"}]}"#,
        &policy,
    )
    .unwrap();
    let engine = fenrun::Engine::new(&policy, batch).unwrap();
    let stream = fenrun::SettleOptions::default().lines(fenrun::Lines::Stream);
    let err = engine
        .settle_to(stream, |_| Err(std::io::Error::other("disk full")))
        .unwrap_err();
    assert_eq!(err.code(), "sink_error");
    assert_eq!(err.path(), "lines");
    assert!(err.to_string().contains("disk full"));
}

#[test]
fn family_of_code_agrees_with_every_error_raised() {
    let vectors = load_vectors(&vectors_dir()).expect("vectors load");
    let mut seen = 0;
    for (path, v) in &vectors {
        if v.expect_error.is_none() {
            continue;
        }
        let err = fenrun_testkit::raised_error(v).expect("an error vector fails");
        assert_eq!(
            fenrun::ErrorFamily::of_code(err.code()),
            Some(err.family()),
            "{}",
            path.display()
        );
        seen += 1;
    }
    assert!(seen > 30);
    // The codes no vector reaches: their variants' families, by hand.
    use fenrun::ErrorFamily::{Format, Input, Internal, Output};
    for (code, family) in [
        ("order_not_settled", Input),
        ("sink_error", Output),
        ("invalid_table", Format),
        ("number_money", Format),
        ("internal", Internal),
    ] {
        assert_eq!(fenrun::ErrorFamily::of_code(code), Some(family), "{code}");
    }
    for code in fenrun::Error::CODES {
        assert!(fenrun::ErrorFamily::of_code(code).is_some());
    }
}
