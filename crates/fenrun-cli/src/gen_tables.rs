//! `fenrun gen` tables: the generated batch as members, groups and orders
//! tables (Parquet or CSV), written in record batches.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Decimal128Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use fenrun_arrow::write::{TableWriter, BATCH_ROWS};
use fenrun_arrow::TableFormat;
use fenrun_gen::{GenEvent, Generated, LADDER};

use crate::Failure;

/// Rows of one table, built batch by batch and written as they fill.
struct Table<'p> {
    path: &'p Path,
    writer: Option<TableWriter>,
    format: TableFormat,
}

impl Table<'_> {
    fn write(&mut self, columns: Vec<(&str, ArrayRef)>) -> Result<(), Failure> {
        let batch = RecordBatch::try_from_iter(columns)
            .map_err(|e| Failure::Io(format!("cannot build {}: {e}", self.path.display())))?;
        let writer = match self.writer.take() {
            Some(w) => w,
            None => TableWriter::create(self.path, self.format, batch.schema())?,
        };
        let writer = self.writer.insert(writer);
        writer.write(&batch, self.path)?;
        Ok(())
    }

    fn close(self) -> Result<(), Failure> {
        if let Some(w) = self.writer {
            w.close(self.path)?;
        }
        Ok(())
    }
}

fn ext(format: TableFormat) -> &'static str {
    match format {
        TableFormat::Parquet => "parquet",
        TableFormat::Csv => "csv",
    }
}

/// Write `members`, `groups` and `orders` tables under `dir`; returns the file names.
pub fn write(g: &Generated, dir: &Path, format: TableFormat) -> Result<Vec<String>, Failure> {
    let names: Vec<String> = ["members", "groups", "orders"]
        .iter()
        .map(|t| format!("{t}.{}", ext(format)))
        .collect();
    let [members, groups, orders] =
        [0, 1, 2].map(|i| dir.join(names.get(i).map_or("", String::as_str)));

    let mut t = Table {
        path: &members,
        writer: None,
        format,
    };
    for chunk in g.members.chunks(BATCH_ROWS).enumerate() {
        let (c, ms) = chunk;
        let (mut id, mut sponsor, mut rank) = (
            StringBuilder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
        for (k, m) in ms.iter().enumerate() {
            id.append_value(format!("m{}", c * BATCH_ROWS + k));
            sponsor.append_option(m.sponsor.map(|s| format!("m{s}")));
            rank.append_option(
                (m.rank > 0).then(|| LADDER.get(usize::from(m.rank)).copied().unwrap_or("member")),
            );
        }
        t.write(vec![
            ("id", Arc::new(id.finish()) as ArrayRef),
            ("sponsor", Arc::new(sponsor.finish())),
            ("rank", Arc::new(rank.finish())),
        ])?;
    }
    t.close()?;

    let mut t = Table {
        path: &groups,
        writer: None,
        format,
    };
    for (c, gs) in g.groups.chunks(BATCH_ROWS).enumerate() {
        let (mut id, mut owner, mut size) = (
            StringBuilder::new(),
            StringBuilder::new(),
            Int64Builder::new(),
        );
        for (k, (o, s)) in gs.iter().enumerate() {
            id.append_value(format!("g{}", c * BATCH_ROWS + k));
            owner.append_value(format!("m{o}"));
            size.append_value(i64::from(*s));
        }
        t.write(vec![
            ("id", Arc::new(id.finish()) as ArrayRef),
            ("owner", Arc::new(owner.finish())),
            ("size", Arc::new(size.finish())),
        ])?;
    }
    t.close()?;

    let mut t = Table {
        path: &orders,
        writer: None,
        format,
    };
    let (mut order_no, mut refund_no) = (0u64, 0u64);
    for es in g.events.chunks(BATCH_ROWS) {
        let mut id = StringBuilder::new();
        let mut seller = StringBuilder::new();
        let mut buyer = StringBuilder::new();
        let mut amount =
            Decimal128Builder::new().with_data_type(arrow_schema::DataType::Decimal128(18, 2));
        let mut refund_of = StringBuilder::new();
        let mut category = StringBuilder::new();
        for e in es {
            match e {
                GenEvent::Order {
                    seller: s,
                    buyer: b,
                    cents,
                } => {
                    id.append_value(format!("o{order_no}"));
                    seller.append_option(s.map(|s| format!("m{s}")));
                    match (s, b) {
                        (_, Some(b)) => buyer.append_value(format!("m{b}")),
                        (Some(_), None) => buyer.append_value(format!("c{order_no}")),
                        (None, None) => buyer.append_null(),
                    }
                    amount.append_value(i128::from(*cents));
                    refund_of.append_null();
                    category.append_option(g.category(order_no));
                    order_no += 1;
                }
                GenEvent::Refund { order, cents } => {
                    id.append_value(format!("r{refund_no}"));
                    seller.append_null();
                    buyer.append_null();
                    amount.append_value(i128::from(*cents));
                    refund_of.append_value(format!("o{order}"));
                    category.append_null();
                    refund_no += 1;
                }
            }
        }
        let mut columns: Vec<(&str, ArrayRef)> = vec![
            ("id", Arc::new(id.finish()) as ArrayRef),
            ("seller", Arc::new(seller.finish())),
            ("buyer", Arc::new(buyer.finish())),
            ("amount", Arc::new(amount.finish())),
            ("refund_of", Arc::new(refund_of.finish())),
        ];
        if g.categories > 0 {
            columns.push(("category", Arc::new(category.finish())));
        }
        t.write(columns)?;
    }
    t.close()?;
    Ok(names)
}
