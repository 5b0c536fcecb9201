//! Lines as columns: the Parquet file streamed in blocks holds the lines the
//! settlement keeps, in order, with ids dictionary-encoded; its bytes do not
//! depend on the writer thread; `lines_batch` is the same table in memory.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code: a failed expectation is a test failure

use std::fs::File;
use std::path::PathBuf;

use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use fenrun::{Batch, Engine, Policy, SettleOptions};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::json;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fenrun-arrow-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The record batches of a Parquet file.
fn read_parquet(path: &std::path::Path) -> Vec<RecordBatch> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    reader.map(Result::unwrap).collect()
}

/// A chain of 40 members (every fourth a group owner) and 30,000 orders,
/// every seventh refunded in part: about 100,000 lines, two blocks and more;
/// a pool and a member cap add lines with no order.
fn engine() -> Engine {
    let policy = Policy::from_value(json!({
        "version": 2,
        "ranks": [{"id": "member", "rate": "0"}, {"id": "group_owner", "rate": "0.10"}],
        "rules": [
            {"id": "dist", "type": "levels", "rates": ["0.10", "0.05"]},
            {"id": "spread", "type": "differential"},
            {"id": "bonus", "type": "pool", "rate": "0.01", "min_rank": "group_owner", "split": "equal"}
        ],
        "member_cap": {"amount": "5000.00"}
    }))
    .unwrap();
    let members: Vec<_> = (0..40)
        .map(|i| {
            let mut m = json!({"id": format!("m{i}")});
            if i > 0 {
                m["sponsor"] = json!(format!("m{}", i - 1));
            }
            if i % 4 == 0 {
                m["rank"] = json!("group_owner");
            }
            m
        })
        .collect();
    let mut events = Vec::new();
    for i in 0..30_000 {
        let amount = format!("{}.{:02}", 10 + i % 90, i % 100);
        events.push(
            json!({"id": format!("o{i}"), "seller": format!("m{}", i % 40), "amount": amount}),
        );
        if i % 7 == 0 {
            events.push(
                json!({"id": format!("r{i}"), "refund_of": format!("o{i}"), "amount": "3.33"}),
            );
        }
    }
    let batch = Batch::from_value(json!({"members": members, "events": events}), &policy).unwrap();
    Engine::new(&policy, batch).unwrap()
}

/// Each row of `batches` as the JSON document writes its line's fields, ids as text.
fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        let text: Vec<_> = b
            .columns()
            .iter()
            .map(|c| arrow_cast::cast(c, &DataType::Utf8).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            let cells: Vec<String> = text
                .iter()
                .map(|c| {
                    let c = c
                        .as_any()
                        .downcast_ref::<arrow_array::StringArray>()
                        .unwrap();
                    if c.is_null(r) {
                        String::new()
                    } else {
                        c.value(r).to_owned()
                    }
                })
                .collect();
            out.push(cells.join(","));
        }
    }
    out
}

fn kept_rows(engine: &Engine) -> Vec<String> {
    let s = engine.settle().unwrap();
    let scale = s.scale();
    s.lines()
        .map(|l| {
            let d = |x: Option<rust_decimal::Decimal>| x.map(|d| d.to_string()).unwrap_or_default();
            [
                l.order.unwrap_or_default().to_owned(),
                l.refund.unwrap_or_default().to_owned(),
                l.rule.unwrap_or_default().to_owned(),
                l.kind.to_owned(),
                l.beneficiary.to_owned(),
                l.level.map(|v| v.to_string()).unwrap_or_default(),
                fenrun::money_string(l.base, scale),
                d(l.rate.map(|r| r.round_dp(2))),
                d(l.weight),
                fenrun::money_string(l.amount, scale),
            ]
            .join(",")
        })
        .collect()
}

#[test]
fn streamed_parquet_holds_the_kept_lines_and_its_bytes_do_not_depend_on_threads() {
    let engine = engine();
    let kept = kept_rows(&engine);
    assert!(
        kept.len() > fenrun_arrow::write::BATCH_ROWS,
        "{} lines",
        kept.len()
    );
    assert!(
        kept.iter().any(|r| r.contains(",pool,")) && kept.iter().any(|r| r.contains("member_cap"))
    );
    let mut files = Vec::new();
    for threads in [1, 2] {
        let path = temp(&format!("lines-{threads}.parquet"));
        let options = SettleOptions::default().threads(threads);
        let s = fenrun_arrow::settle_lines_to_file(&engine, &path, options).unwrap();
        assert_eq!(s.line_count(), 0);
        files.push(std::fs::read(&path).unwrap());
        let batches = read_parquet(&path);
        let schema = batches[0].schema();
        for id in ["order", "refund", "rule", "kind", "beneficiary"] {
            let t = schema.field_with_name(id).unwrap().data_type();
            assert!(
                matches!(t, DataType::Dictionary(_, v) if **v == DataType::Utf8),
                "{id}: {t}"
            );
        }
        // Money bound below 10^18 cents: 64-bit decimals in the file.
        for money in ["base", "rate", "amount"] {
            assert_eq!(
                schema.field_with_name(money).unwrap().data_type(),
                &DataType::Decimal128(18, 2),
                "{money}"
            );
        }
        assert_eq!(rows(&batches), kept, "{threads} threads");
        assert_encodings(&path);
    }
    assert!(
        files[0] == files[1],
        "the file's bytes depend on the writer thread"
    );
}

/// 64-bit money is written as bit-packed differences, beneficiaries plain
/// (no dictionary), rules and kinds through their dictionaries.
fn assert_encodings(path: &std::path::Path) {
    use parquet::basic::Encoding;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let meta = reader.metadata();
    assert!(meta.num_row_groups() > 0);
    for rg in meta.row_groups() {
        for c in rg.columns() {
            let name = c.column_path().string();
            let encodings: Vec<Encoding> = c.encodings().collect();
            match name.as_str() {
                "base" | "amount" => {
                    assert!(
                        encodings.contains(&Encoding::DELTA_BINARY_PACKED),
                        "{name}: {encodings:?}"
                    );
                }
                "beneficiary" | "order" => {
                    assert!(
                        c.dictionary_page_offset().is_none(),
                        "{name}: {encodings:?}"
                    );
                    assert!(!encodings.contains(&Encoding::RLE_DICTIONARY), "{name}");
                }
                "rule" | "kind" => {
                    assert!(encodings.contains(&Encoding::RLE_DICTIONARY), "{name}");
                }
                _ => {}
            }
        }
    }
}

#[test]
fn lines_batch_is_the_kept_lines_as_one_table() {
    let engine = engine();
    let s = engine.settle().unwrap();
    let policy = engine.policy();
    let columns = fenrun_arrow::LineColumns::of(policy);
    let batch = fenrun_arrow::lines_batch(&s, policy.rate_scale(), columns).unwrap();
    assert_eq!(rows(&[batch]), kept_rows(&engine));
}

/// The money of a lines file whose batch cannot bound it below 10^18 units
/// stays decimal(38, scale), with every value exact.
#[test]
fn a_batch_too_large_for_64_bits_keeps_wide_money() {
    let policy = Policy::from_value(json!({
        "version": 1,
        "ranks": [{"id": "member"}],
        "rules": [{"id": "l", "type": "levels", "rates": ["0.10", "0.05"]}]
    }))
    .unwrap();
    // 5,000,000,000,000.00 is 5·10^14 cents; 2112 times that is above 10^18.
    let batch = Batch::from_value(
        json!({
            "members": [{"id": "a"}, {"id": "b", "sponsor": "a"}, {"id": "c", "sponsor": "b"}],
            "events": [{"id": "o1", "seller": "c", "amount": "5000000000000.00"}]
        }),
        &policy,
    )
    .unwrap();
    let engine = Engine::new(&policy, batch).unwrap();
    assert!(!engine.line_names().money_fits(18));
    let path = temp("wide.parquet");
    fenrun_arrow::settle_lines_to_file(&engine, &path, SettleOptions::default()).unwrap();
    let batches = read_parquet(&path);
    let schema = batches[0].schema();
    assert_eq!(
        schema.field_with_name("amount").unwrap().data_type(),
        &DataType::Decimal128(38, 2)
    );
    // c sells: c 10 % = 500,000,000,000.00, b 5 % = 250,000,000,000.00.
    let amounts = batches[0]
        .column_by_name("amount")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::Decimal128Array>()
        .unwrap();
    assert_eq!(
        amounts.values().to_vec(),
        [50_000_000_000_000, 25_000_000_000_000]
    );
}
