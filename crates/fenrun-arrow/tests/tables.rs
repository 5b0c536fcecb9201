//! The table path (Arrow, Parquet, CSV) against the JSON path: every golden
//! vector's batch, turned into tables, must settle to the same bytes (or fail
//! with the same code); and the table-specific errors each have a test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code: a failed expectation is a test failure

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Decimal128Builder, Int64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use arrow_array::{ArrayRef, Decimal128Array, Float64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use fenrun::{Batch, Policy};
use fenrun_arrow::{read_table, TableFormat, Tables};
use fenrun_testkit::{load_vectors, vectors_dir};
use rust_decimal::Decimal;
use serde_json::Value;

/// A JSON record list as string-ish Arrow columns; `None` when a value has a
/// shape tables cannot hold (a float, a nested object where a scalar belongs),
/// i.e. a JSON-format error that has no table equivalent.
fn table(records: &[Value], decimal_money: bool) -> Option<RecordBatch> {
    let mut names: Vec<String> = Vec::new();
    for r in records {
        let obj = r.as_object()?;
        for (k, v) in obj {
            let cols: Vec<String> = if k == "attrs" {
                v.as_object()?
                    .keys()
                    .map(|a| format!("attrs.{a}"))
                    .collect()
            } else {
                vec![k.clone()]
            };
            for c in cols {
                if !names.contains(&c) {
                    names.push(c);
                }
            }
        }
    }
    let cell = |r: &Value, c: &str| -> Option<Value> {
        match c.strip_prefix("attrs.") {
            Some(a) => r.get("attrs").and_then(|x| x.get(a)).cloned(),
            None => r.get(c).cloned(),
        }
    };
    let mut columns: Vec<(String, ArrayRef)> = Vec::new();
    for c in &names {
        let values: Vec<Option<Value>> = records
            .iter()
            .map(|r| cell(r, c).filter(|v| !v.is_null()))
            .collect();
        let array: ArrayRef = match c.as_str() {
            "active" => {
                let mut b = BooleanBuilder::new();
                for v in &values {
                    match v {
                        None => b.append_null(),
                        Some(v) => b.append_value(v.as_bool()?),
                    }
                }
                Arc::new(b.finish())
            }
            "size" => {
                let mut b = Int64Builder::new();
                for v in &values {
                    match v {
                        None => b.append_null(),
                        Some(v) => b.append_value(v.as_i64()?),
                    }
                }
                Arc::new(b.finish())
            }
            "amount" if decimal_money => {
                // Exact decimal128 at the largest scale of the column.
                let decs: Vec<Option<Decimal>> = values
                    .iter()
                    .map(|v| match v {
                        None => Some(None),
                        Some(Value::String(s)) => {
                            fenrun::input::parse_decimal(s, "").ok().map(Some)
                        }
                        Some(Value::Number(n)) if n.is_i64() => {
                            Some(Some(Decimal::from(n.as_i64()?)))
                        }
                        _ => None,
                    })
                    .collect::<Option<_>>()?;
                let scale = decs.iter().flatten().map(Decimal::scale).max().unwrap_or(0);
                let mut b =
                    Decimal128Builder::new().with_data_type(DataType::Decimal128(38, scale as i8));
                for d in decs {
                    match d {
                        None => b.append_null(),
                        Some(mut d) => {
                            d.rescale(scale);
                            b.append_value(d.mantissa());
                        }
                    }
                }
                Arc::new(b.finish())
            }
            _ => {
                let mut b = StringBuilder::new();
                for v in &values {
                    match v {
                        None => b.append_null(),
                        Some(Value::String(s)) => b.append_value(s),
                        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {
                            b.append_value(n.to_string())
                        }
                        Some(_) => return None,
                    }
                }
                Arc::new(b.finish())
            }
        };
        columns.push((c.clone(), array));
    }
    if columns.is_empty() {
        return Some(RecordBatch::new_empty(Arc::new(
            arrow_schema::Schema::empty(),
        )));
    }
    RecordBatch::try_from_iter(columns).ok()
}

fn tables(batch: &Value, decimal_money: bool) -> Option<Tables> {
    let list = |k: &str| -> Option<Vec<RecordBatch>> {
        match batch.get(k) {
            None => Some(Vec::new()),
            Some(v) => {
                let records = v.as_array()?;
                if records.is_empty() {
                    return Some(Vec::new());
                }
                Some(vec![table(records, decimal_money)?])
            }
        }
    };
    Some(Tables {
        members: list("members")?.into(),
        groups: list("groups")?.into(),
        orders: list("events")?.into(),
        refunds: Default::default(),
    })
}

#[test]
fn every_vector_settles_the_same_through_tables() {
    let vectors = load_vectors(&vectors_dir()).unwrap();
    let (mut same, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for (path, v) in &vectors {
        let Ok(policy) = Policy::from_json(&v.policy_text()) else {
            continue;
        };
        let Some(text) = v.batch_text() else { continue };
        let Ok(doc) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if fenrun_testkit::is_stream_document(&doc)
            || doc.as_object().is_some_and(|o| {
                o.keys()
                    .any(|k| !["members", "groups", "events"].contains(&k.as_str()))
            })
        {
            skipped += 1;
            continue;
        }
        let validated = Batch::from_json(&text, &policy);
        // Validation errors name the table's row; settlement errors the event.
        let table_path = |p: &str| match validated {
            Err(_) => p.replacen("events[", "orders[", 1),
            Ok(_) => p.to_owned(),
        };
        let expected = validated
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|b| fenrun::settle(&policy, b.clone()));
        // Validation on two threads must give the same batch and errors as on
        // one, and orders given as one record batch a row (each validated as
        // a chunk of its own) the same as in one.
        for (decimal_money, threads, by_row) in [
            (false, 1, false),
            (true, 1, false),
            (true, 2, false),
            (true, 1, true),
        ] {
            let Some(mut t) = tables(&doc, decimal_money) else {
                skipped += 1;
                continue;
            };
            if let (true, fenrun_arrow::Rows::Arrow(batches)) = (by_row, &t.orders) {
                let rows = batches
                    .iter()
                    .flat_map(|b| (0..b.num_rows()).map(|i| b.slice(i, 1)))
                    .collect::<Vec<_>>();
                t.orders = rows.into();
            }
            let got = t
                .into_columns_with(&fenrun_arrow::ReadOptions::default())
                .and_then(|c| c.validate_on(&policy, threads))
                .and_then(|b| fenrun::settle(&policy, b));
            match (&expected, got) {
                (Ok(e), Ok(g)) if e.to_json() == g.to_json() => same += 1,
                // The same code at the same record and field.
                (Err(e), Err(g)) if e.code() == g.code() && table_path(e.path()) == g.path() => {
                    same += 1
                }
                // A JSON-shape error (a missing `members` key, a string where a count belongs)
                // can surface later or differently in table form; only meaning must agree.
                (Err(e), _) if e.family() == fenrun::ErrorFamily::Format => skipped += 1,
                (e, g) => failures.push(format!(
                    "{} (decimal128 money: {decimal_money}, {threads} threads, a batch a row: {by_row}): JSON path {:?}, table path {:?}",
                    path.display(),
                    e.as_ref()
                        .map(|s| s.total_paid())
                        .map_err(|e| e.to_string()),
                    g.map(|s| s.total_paid()).map_err(|e| e.to_string())
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        same >= 360,
        "only {same} vector runs compared ({skipped} skipped)"
    );
}

/// Every vector's tables written as Parquet files and read back a few rows at a
/// time ([`fenrun_arrow::validate_files_in`], each chunk validated as it
/// comes): the outcome of the whole tables in memory, paths included.
#[test]
fn every_vector_validates_the_same_from_files_in_chunks() {
    use fenrun_arrow::{write::write_table, TableFiles};
    let vectors = load_vectors(&vectors_dir()).unwrap();
    let (mut same, mut errors) = (0, 0);
    let mut failures = Vec::new();
    for (n, (path, v)) in vectors.iter().enumerate() {
        let Ok(policy) = Policy::from_json(&v.policy_text()) else {
            continue;
        };
        let Some(text) = v.batch_text() else { continue };
        let Ok(doc) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let Some(t) = tables(&doc, true) else {
            continue;
        };
        // Orders and refunds are rows of the one orders table here.
        let t_rows = doc["events"].as_array().map_or(0, Vec::len) as u64;
        let write = |rows: &fenrun_arrow::Rows, name: &str| -> Option<Option<PathBuf>> {
            match rows {
                fenrun_arrow::Rows::Arrow(b) if b.is_empty() => Some(None),
                fenrun_arrow::Rows::Arrow(b) => {
                    let file = temp(&format!("v{n}-{name}.parquet"));
                    write_table(&file, TableFormat::Parquet, b.first()?).ok()?;
                    Some(Some(file))
                }
                fenrun_arrow::Rows::Json(_) => None,
            }
        };
        let (Some(Some(members)), Some(groups), Some(Some(orders))) = (
            write(&t.members, "members"),
            write(&t.groups, "groups"),
            write(&t.orders, "orders"),
        ) else {
            continue;
        };
        let outcome = |b: fenrun::Result<Batch>| {
            b.and_then(|b| fenrun::settle(&policy, b))
                .map(|s| s.to_json())
                .map_err(|e| e.to_string())
        };
        let whole = outcome(t.into_batch(&policy));
        errors += usize::from(whole.is_err());
        let files = TableFiles {
            members: &members,
            groups: groups.as_deref(),
            orders: &orders,
            refunds: None,
        };
        let opts = fenrun_arrow::ReadOptions::default();
        for (chunk, threads) in [(1, 1), (2, 2), (fenrun_arrow::CHUNK_ROWS, 1)] {
            let got = outcome(fenrun_arrow::validate_files_in(
                &policy, &files, &opts, threads, chunk,
            ));
            if got == whole {
                same += 1;
            } else {
                failures.push(format!(
                    "{} in chunks of {chunk}: {got:?}\n  in memory: {whole:?}",
                    path.display()
                ));
            }
        }
        // Counting the rows read changes nothing, and counts every row once.
        let read = fenrun::SettleProgress::new();
        let counted = outcome(fenrun_arrow::validate_files_counted(
            &policy, &files, &opts, 1, &read,
        ));
        assert_eq!(counted, whole, "{}", path.display());
        if counted.is_ok() {
            assert_eq!(
                (read.settled(), read.total()),
                (t_rows, t_rows),
                "{}",
                path.display()
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        same >= 200 && errors >= 12,
        "only {same} runs compared, {errors} errors"
    );
}

fn strings(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn policy() -> Policy {
    Policy::from_json(
        r#"{"version": 1, "ranks": [{"id": "member"}, {"id": "group_owner", "rate": "0.10"}],
            "rules": [{"id": "spread", "type": "differential"}]}"#,
    )
    .unwrap()
}

fn members() -> RecordBatch {
    RecordBatch::try_from_iter([
        ("id", strings(&[Some("m1"), Some("m2")])),
        ("sponsor", strings(&[None, Some("m1")])),
        ("rank", strings(&[Some("group_owner"), None])),
    ])
    .unwrap()
}

fn orders(amount: ArrayRef) -> RecordBatch {
    let n = amount.len();
    let ids: Vec<Option<String>> = (0..n).map(|i| Some(format!("o{i}"))).collect();
    RecordBatch::try_from_iter([
        ("id", Arc::new(StringArray::from(ids)) as ArrayRef),
        ("seller", strings(&vec![Some("m2"); n])),
        ("amount", amount),
    ])
    .unwrap()
}

fn settle(tables: Tables) -> fenrun::Result<fenrun::Settlement> {
    let p = policy();
    let b = tables.into_batch(&p)?;
    fenrun::settle(&p, b)
}

fn with_orders(orders: RecordBatch) -> Tables {
    Tables {
        members: vec![members()].into(),
        orders: vec![orders].into(),
        ..Tables::default()
    }
}

use arrow_array::Array;

#[test]
fn float_money_is_refused_with_the_column() {
    let err = settle(with_orders(orders(Arc::new(Float64Array::from(vec![
        10.5,
    ])))))
    .unwrap_err();
    assert_eq!(err.code(), "float_number");
    assert_eq!(err.path(), "orders.amount");
}

#[test]
fn float_money_opt_in_rounds_the_shortest_decimal_to_the_policy_scale() {
    let p = policy();
    let opts = fenrun_arrow::ReadOptions {
        round_float_money: Some(p.rounding()),
    };
    // 0.1 + 0.2 is 0.30000000000000004 as a float: it reads as 0.30.
    // 2.675 is 2.67499999999999982236431605997495353221893310546875 as a float,
    // but its shortest form is "2.675", which rounds half up to 2.68 (what the
    // analyst typed), where rounding the binary value would give 2.67.
    // 1e-3 rounds to 0.00, which is not a positive amount.
    let amounts = Float64Array::from(vec![0.1 + 0.2, 2.675, 100.0]);
    let b = with_orders(orders(Arc::new(amounts)))
        .into_batch_with(&p, &opts)
        .unwrap();
    let s = fenrun::settle(&p, b).unwrap();
    // m1 earns 0.10 of each: 0.030 → 0.03, 0.268 → 0.27, 10.000 → 10.00; sum 10.30.
    assert_eq!(s.net_sales().to_string(), "102.98");
    assert_eq!(s.total_of("m1").unwrap().to_string(), "10.30");

    let tiny = with_orders(orders(Arc::new(Float64Array::from(vec![1e-3]))));
    let err = tiny.into_batch_with(&p, &opts).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("non_positive_amount", "orders[0].amount")
    );

    let nan = with_orders(orders(Arc::new(Float64Array::from(vec![5.0, f64::NAN]))));
    let err = nan.into_batch_with(&p, &opts).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("invalid_decimal", "orders[1].amount")
    );
}

#[test]
fn json_rows_mix_with_arrow_tables_and_name_their_table_in_errors() {
    let p = policy();
    let rows = serde_json::json!([
        {"id": "o1", "seller": "m2", "amount": "12.34"},
        {"id": "o2", "seller": "m2", "amount": 5}
    ]);
    let t = Tables {
        members: vec![members()].into(),
        orders: fenrun_arrow::Rows::Json(rows),
        refunds: fenrun_arrow::Rows::Json(serde_json::json!([
            {"id": "r1", "refund_of": "o2", "amount": "5.00"}
        ])),
        ..Tables::default()
    };
    let s = fenrun::settle(&p, t.into_batch(&p).unwrap()).unwrap();
    // m1 earns 0.10 × 12.34 = 1.234 → 1.23 and 0.10 × 5 = 0.50, reversed by r1: 1.23.
    assert_eq!(s.total_of("m1").unwrap().to_string(), "1.23");

    let bad = Tables {
        members: vec![members()].into(),
        orders: fenrun_arrow::Rows::Json(serde_json::json!([{"id": "o1", "seller": "m2"}])),
        ..Tables::default()
    };
    let err = bad.into_batch(&p).unwrap_err();
    assert_eq!((err.code(), err.path()), ("missing_field", "orders[0]"));
    let over = Tables {
        members: vec![members()].into(),
        orders: fenrun_arrow::Rows::Json(
            serde_json::json!([{"id": "o1", "seller": "m2", "amount": "1"}]),
        ),
        refunds: fenrun_arrow::Rows::Json(
            serde_json::json!([{"id": "r1", "refund_of": "o1", "amount": "2"}]),
        ),
        ..Tables::default()
    };
    let err = over.into_batch(&p).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("over_refund", "refunds[0].amount")
    );
}

#[test]
fn money_columns_read_exactly_from_every_exact_type() {
    let dec = Decimal128Builder::new()
        .with_data_type(DataType::Decimal128(10, 3))
        .append_value_then(12_340);
    for amount in [
        strings(&[Some("12.34")]),
        Arc::new(dec) as ArrayRef,
        Arc::new(arrow_array::Int64Array::from(vec![12])) as ArrayRef,
        arrow_cast::cast(&strings(&[Some("12.34")]), &DataType::Decimal256(40, 2)).unwrap(),
        arrow_cast::cast(
            &strings(&[Some("12.34")]),
            &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        )
        .unwrap(),
    ] {
        let want = if amount.data_type().is_integer() {
            "1.20"
        } else {
            "1.23"
        };
        let s = settle(with_orders(orders(amount))).unwrap();
        // m2 is a member (rate 0); m1, its group owner sponsor, earns 0.10 × 12.34 = 1.234 → 1.23.
        assert_eq!(s.total_of("m1").unwrap().to_string(), want);
    }
}

trait AppendThen {
    fn append_value_then(self, v: i128) -> arrow_array::Decimal128Array;
}
impl AppendThen for Decimal128Builder {
    fn append_value_then(mut self, v: i128) -> arrow_array::Decimal128Array {
        self.append_value(v);
        self.finish()
    }
}

#[test]
fn column_errors_name_table_column_and_row() {
    let err = settle(with_orders(orders(strings(&[Some("1e3")])))).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("invalid_decimal", "orders[0].amount")
    );

    let err = settle(with_orders(orders(strings(&[Some("1.00"), None])))).unwrap_err();
    assert_eq!((err.code(), err.path()), ("missing_field", "orders[1]"));

    // A null id and an empty one, each after a duplicate and without: the
    // duplicate comes first (an id error anywhere, in input order).
    for (ids, code, path) in [
        (&[Some("o1"), None][..], "missing_field", "orders[1]"),
        (&[Some("o1"), Some("")][..], "empty_id", "orders[1].id"),
        (
            &[Some("o1"), Some("o1"), None][..],
            "duplicate_event",
            "orders[1].id",
        ),
        (
            &[Some("o1"), Some("o1"), Some("")][..],
            "duplicate_event",
            "orders[1].id",
        ),
    ] {
        let amounts = vec![Some("1.00"); ids.len()];
        let rows = RecordBatch::try_from_iter([
            ("id", strings(ids)),
            ("seller", strings(&vec![Some("m1"); ids.len()])),
            ("amount", strings(&amounts)),
        ])
        .unwrap();
        let err = settle(with_orders(rows)).unwrap_err();
        assert_eq!((err.code(), err.path()), (code, path), "{ids:?}");
    }

    let no_amount = RecordBatch::try_from_iter([("id", strings(&[Some("o1")]))]).unwrap();
    let err = settle(with_orders(no_amount)).unwrap_err();
    assert_eq!((err.code(), err.path()), ("missing_field", "orders"));

    let extra = RecordBatch::try_from_iter([
        ("id", strings(&[Some("o1")])),
        ("amount", strings(&[Some("1")])),
        ("sellr", strings(&[Some("m1")])),
    ])
    .unwrap();
    let err = settle(with_orders(extra)).unwrap_err();
    assert_eq!((err.code(), err.path()), ("unknown_field", "orders"));
    assert!(err.to_string().contains("sellr"));

    let bad_size = RecordBatch::try_from_iter([
        ("id", strings(&[Some("g1")])),
        ("owner", strings(&[Some("m1")])),
        ("size", Arc::new(Float64Array::from(vec![3.0])) as ArrayRef),
    ])
    .unwrap();
    let mut t = with_orders(orders(strings(&[Some("1")])));
    t.groups = bad_size.into();
    let err = settle(t).unwrap_err();
    assert_eq!((err.code(), err.path()), ("invalid_type", "groups.size"));
}

#[test]
fn core_errors_are_renamed_to_the_table_and_row() {
    let unknown_seller = RecordBatch::try_from_iter([
        ("id", strings(&[Some("o1"), Some("o2")])),
        ("seller", strings(&[Some("m1"), Some("m9")])),
        ("amount", strings(&[Some("1.00"), Some("2.00")])),
    ])
    .unwrap();
    let err = settle(with_orders(unknown_seller)).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("unknown_seller", "orders[1].seller")
    );
    assert!(err.to_string().starts_with("orders[1].seller: "), "{err}");

    let refunds = RecordBatch::try_from_iter([
        ("id", strings(&[Some("r1"), Some("r2")])),
        ("refund_of", strings(&[Some("o0"), Some("o0")])),
        ("amount", strings(&[Some("6.00"), Some("6.00")])),
    ])
    .unwrap();
    let mut t = with_orders(orders(strings(&[Some("10.00")])));
    t.refunds = refunds.into();
    let err = settle(t).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("over_refund", "refunds[1].amount")
    );
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fenrun-arrow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn parquet_and_csv_files_round_trip_lines_and_totals() {
    let p = policy();
    let t = with_orders(orders(strings(&[Some("12.34"), Some("0.05")])));
    let batch = t.into_batch(&p).unwrap();
    let engine = fenrun::Engine::new(&p, batch).unwrap();
    let kept = engine.settle().unwrap();
    for ext in ["parquet", "csv"] {
        let lines = temp(&format!("lines.{ext}"));
        let totals = temp(&format!("totals.{ext}"));
        let streamed =
            fenrun_arrow::settle_lines_to_file(&engine, &lines, Default::default()).unwrap();
        fenrun_arrow::write_totals(&streamed, &totals).unwrap();
        assert_eq!(streamed.total_paid(), kept.total_paid());
        let back = read_table(&lines, "lines").unwrap();
        let rows: usize = back.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(rows, kept.line_count());
        let amounts = back[0].column_by_name("amount").unwrap();
        let got: Vec<String> = match ext {
            "parquet" => {
                // A lines file keeps money bound below 10^18 cents in 64 bits.
                assert_eq!(amounts.data_type(), &DataType::Decimal128(18, 2));
                amounts
                    .as_primitive::<Decimal128Type>()
                    .iter()
                    .map(|v| Decimal::from_i128_with_scale(v.unwrap(), 2).to_string())
                    .collect()
            }
            _ => amounts
                .as_string::<i32>()
                .iter()
                .map(|v| v.unwrap().to_owned())
                .collect(),
        };
        // 0.10 × 12.34 = 1.234 → 1.23; 0.10 × 0.05 = 0.005 → 0.01 (half up).
        assert_eq!(got, ["1.23", "0.01"]);
        let totals = read_table(&totals, "totals").unwrap();
        assert_eq!(totals[0].num_rows(), 1);
    }
    assert_eq!(
        TableFormat::from_path(&temp("x.txt")).unwrap_err().code(),
        "invalid_table"
    );
    assert_eq!(
        read_table(&temp("missing.parquet"), "members")
            .unwrap_err()
            .code(),
        "invalid_table"
    );
}

#[test]
fn csv_cells_are_text_and_empty_is_null() {
    let members = temp("m.csv");
    std::fs::write(
        &members,
        "id,sponsor,rank,active,attrs.topup\nm1,,group_owner,true,100\nm2,m1,,,\n",
    )
    .unwrap();
    let orders = temp("o.csv");
    std::fs::write(&orders, "id,seller,amount\no1,m2,12.345\n").unwrap();
    let p = policy();
    let err = Tables::from_files(&members, None, &orders, None)
        .unwrap()
        .into_batch(&p)
        .unwrap_err();
    // 12.345 has three decimals: more than the policy scale, never rounded silently.
    assert_eq!(
        (err.code(), err.path()),
        ("too_many_decimals", "orders[0].amount")
    );
    std::fs::write(&orders, "id,seller,amount\no1,m2,12.30\n").unwrap();
    let b = Tables::from_files(&members, None, &orders, None)
        .unwrap()
        .into_batch(&p)
        .unwrap();
    let s = fenrun::settle(&p, b).unwrap();
    assert_eq!(s.total_of("m1").unwrap().to_string(), "1.23");
    std::fs::write(&members, "id,active\nm1,yes\n").unwrap();
    let err = Tables::from_files(&members, None, &orders, None)
        .unwrap()
        .into_batch(&p)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("invalid_type", "members[0].active")
    );
}

#[test]
fn integer_and_dictionary_id_columns_are_read_as_text() {
    let p = policy();
    let dict = |v: &[&str]| {
        arrow_cast::cast(
            &strings(&v.iter().map(|s| Some(*s)).collect::<Vec<_>>()),
            &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        )
        .unwrap()
    };
    let members = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(arrow_array::Int64Array::from(vec![17, 18])) as ArrayRef,
        ),
        (
            "sponsor",
            Arc::new(arrow_array::Int64Array::from(vec![None, Some(17)])) as ArrayRef,
        ),
        ("rank", dict(&["group_owner", "member"])),
    ])
    .unwrap();
    let orders = RecordBatch::try_from_iter([
        ("id", dict(&["o1"])),
        ("seller", strings(&[Some("18")])),
        ("amount", strings(&[Some("50.00")])),
    ])
    .unwrap();
    let t = Tables {
        members: vec![members].into(),
        orders: vec![orders].into(),
        ..Tables::default()
    };
    let s = fenrun::settle(&p, t.into_batch(&p).unwrap()).unwrap();
    // Member 17 (group owner) over 18 (member): 0.10 × 50.00 = 5.00.
    assert_eq!(s.total_of("17").unwrap().to_string(), "5.00");
}

#[test]
fn orders_in_several_batches_and_a_refunds_table_read_as_one_event_list() {
    let money = |v: Vec<i128>| -> ArrayRef {
        Arc::new(
            Decimal128Array::from(v)
                .with_precision_and_scale(12, 2)
                .unwrap(),
        )
    };
    let batch = |ids: &[&str], sellers: &[Option<&str>], amount: Vec<i128>| {
        let ids: Vec<Option<&str>> = ids.iter().map(|&i| Some(i)).collect();
        RecordBatch::try_from_iter([
            ("id", strings(&ids)),
            ("seller", strings(sellers)),
            ("amount", money(amount)),
        ])
        .unwrap()
    };
    let refunds = |of: &str, amount: i128| {
        RecordBatch::try_from_iter([
            ("id", strings(&[Some("r1")])),
            ("refund_of", strings(&[Some(of)])),
            ("amount", money(vec![amount])),
        ])
        .unwrap()
    };
    let tables = |second: RecordBatch, refund: RecordBatch| Tables {
        members: vec![members()].into(),
        orders: vec![
            batch(&["o1", "o2"], &[Some("m2"), Some("m2")], vec![1000, 2345]),
            second,
        ]
        .into(),
        refunds: vec![refund].into(),
        ..Tables::default()
    };
    let s = settle(tables(
        batch(&["o3"], &[Some("m1")], vec![500]),
        refunds("o2", 2345),
    ))
    .unwrap();
    // m1 is the group owner at 0.10: o1 0.10 × 10.00 = 1.00, o2 0.10 × 23.45 = 2.345 → 2.35
    // (reversed in full by r1), o3 sold by m1 itself 0.10 × 5.00 = 0.50: 1.00 + 0.50 = 1.50.
    assert_eq!(s.total_of("m1").unwrap().to_string(), "1.50");
    assert_eq!(s.net_sales().to_string(), "15.00");

    // Rows are numbered per table: the second batch's row is orders[2], the refund refunds[0].
    for (seller, id, refund_of, code, path) in [
        ("m9", "o3", "o2", "unknown_seller", "orders[2].seller"),
        ("m1", "o3", "o9", "unknown_order", "refunds[0].refund_of"),
        ("m1", "o1", "o2", "duplicate_event", "orders[2].id"),
    ] {
        let err = settle(tables(
            batch(&[id], &[Some(seller)], vec![500]),
            refunds(refund_of, 100),
        ))
        .unwrap_err();
        assert_eq!((err.code(), err.path()), (code, path));
        // The same from files read a row at a time, the refunds in a file of their own.
        let files = [
            ("members", members()),
            (
                "orders",
                batch(
                    &["o1", "o2", id],
                    &[Some("m2"), Some("m2"), Some(seller)],
                    vec![1000, 2345, 500],
                ),
            ),
            ("refunds", refunds(refund_of, 100)),
        ]
        .map(|(name, b)| {
            let file = temp(&format!("split-{name}-{code}.parquet"));
            fenrun_arrow::write::write_table(&file, TableFormat::Parquet, &b).unwrap();
            file
        });
        let files = fenrun_arrow::TableFiles {
            members: &files[0],
            groups: None,
            orders: &files[1],
            refunds: Some(&files[2]),
        };
        let opts = fenrun_arrow::ReadOptions::default();
        for threads in [1, 2] {
            let err =
                fenrun_arrow::validate_files_in(&policy(), &files, &opts, threads, 1).unwrap_err();
            assert_eq!((err.code(), err.path()), (code, path), "from files");
        }
    }
}

/// SPEC §14.2 in a table under a version-2 policy: a row repeating an
/// earlier row's content (a webhook delivered twice, exported twice) counts
/// once, in memory and from files read a row at a time on one or two
/// threads; the same id with an amount written otherwise is
/// `event_conflict` naming the row; version 1 keeps `duplicate_event`.
#[test]
fn a_repeated_row_counts_once_under_version_2() {
    let v2 = Policy::from_json(
        r#"{"version": 2, "ranks": [{"id": "member"}, {"id": "group_owner", "rate": "0.10"}],
            "rules": [{"id": "spread", "type": "differential"}]}"#,
    )
    .unwrap();
    let members = temp("rep-m.csv");
    std::fs::write(&members, "id,sponsor,rank\nm1,,group_owner\nm2,m1,\n").unwrap();
    let orders = temp("rep-o.csv");
    let files = fenrun_arrow::TableFiles {
        members: &members,
        groups: None,
        orders: &orders,
        refunds: None,
    };
    let opts = fenrun_arrow::ReadOptions::default();
    let from_files =
        |p: &Policy, threads: usize| fenrun_arrow::validate_files_in(p, &files, &opts, threads, 1);
    let in_memory = |p: &Policy| {
        Tables::from_files(&members, None, &orders, None)
            .unwrap()
            .into_batch(p)
    };
    // o1 twice, o2, r1 (of o1) twice: m1 is paid 0.10 × (30.00 + 12.00 − 10.00) = 3.20.
    std::fs::write(
        &orders,
        "id,seller,amount,refund_of\no1,m2,30.00,\no1,m2,30.00,\no2,m2,12.00,\nr1,,10.00,o1\nr1,,10.00,o1\n",
    )
    .unwrap();
    for batch in [in_memory(&v2), from_files(&v2, 1), from_files(&v2, 2)] {
        let b = batch.unwrap();
        assert_eq!(b.event_count(), 3);
        let s = fenrun::settle(&v2, b).unwrap();
        assert_eq!(s.total_of("m1").unwrap().to_string(), "3.20");
        assert_eq!(s.net_sales().to_string(), "32.00");
    }
    let err = in_memory(&policy()).unwrap_err();
    assert_eq!(
        (err.code(), err.path()),
        ("duplicate_event", "orders[1].id")
    );
    // 5.0 is not 5.00 as written: not the same message. The first o2 is
    // the second event counted, and row 2.
    std::fs::write(
        &orders,
        "id,seller,amount\no1,m2,30.00\no1,m2,30.00\no2,m2,5.00\no2,m2,5.0\n",
    )
    .unwrap();
    for err in [in_memory(&v2), from_files(&v2, 1), from_files(&v2, 2)] {
        let err = err.unwrap_err();
        assert_eq!((err.code(), err.path()), ("event_conflict", "orders[3].id"));
        assert!(err.to_string().contains("(events[2])"), "{err}");
    }
}
