//! The floor of the peer comparison: one plain streaming pass over the orders
//! Parquet file that sums amounts per seller (no tree, no rules, no refunds
//! logic), written as a CSV. fenrun's full-policy time is reported as a
//! multiple of this.
//!
//! `floor ORDERS.parquet OUT.csv`

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use arrow_array::cast::AsArray;
use arrow_array::types::Decimal128Type;
use arrow_array::Array;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

fn run(orders: &str, out: &str) -> Result<usize, Box<dyn std::error::Error>> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(orders)?)?;
    let schema = builder.parquet_schema();
    let wanted: Vec<usize> = (0..schema.num_columns())
        .filter(|&i| ["seller", "amount"].contains(&schema.column(i).name()))
        .collect();
    let mask = ProjectionMask::leaves(schema, wanted);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(65536)
        .build()?;
    let mut sums: HashMap<String, i128> = HashMap::new();
    for batch in reader {
        let batch = batch?;
        let seller = batch
            .column_by_name("seller")
            .ok_or("no seller column")?
            .as_string::<i32>()
            .clone();
        let amount = batch
            .column_by_name("amount")
            .ok_or("no amount column")?
            .as_primitive::<Decimal128Type>()
            .clone();
        for row in 0..batch.num_rows() {
            if seller.is_null(row) || amount.is_null(row) {
                continue;
            }
            let s = seller.value(row);
            match sums.get_mut(s) {
                Some(v) => *v += amount.value(row),
                None => {
                    sums.insert(s.to_owned(), amount.value(row));
                }
            }
        }
    }
    let mut w = BufWriter::new(File::create(out)?);
    writeln!(w, "seller,units")?;
    for (s, v) in &sums {
        writeln!(w, "{s},{v}")?;
    }
    w.flush()?;
    Ok(sums.len())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(orders), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: floor ORDERS.parquet OUT.csv");
        return ExitCode::from(2);
    };
    match run(orders, out) {
        Ok(n) => {
            println!("{n} sellers");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("floor: {e}");
            ExitCode::FAILURE
        }
    }
}
