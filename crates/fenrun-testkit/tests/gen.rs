//! A generated batch is valid under the reference policy and settles.

#[test]
fn a_generated_batch_validates_and_settles_under_the_reference_policy() {
    let generated = fenrun_testkit::gen::generate(2_000, 10_000, 7);
    let policy = fenrun::Policy::from_json(include_str!("../../../examples/reference-policy.json"))
        .expect("reference policy");
    let batch = fenrun::Batch::from_json(&generated.to_json(), &policy).expect("valid batch");
    assert_eq!(batch.member_count(), 2_000);
    let settlement = fenrun::settle(&policy, batch).expect("settles");
    assert!(settlement.total_paid() > rust_decimal::Decimal::ZERO);
}
