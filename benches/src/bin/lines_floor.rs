//! The floor of writing lines to Parquet: arrow-rs's writer alone. Reads a
//! lines file that `fenrun settle --lines-out` wrote into memory, in blocks
//! of as many lines as fenrun writes at a time, then writes it again with
//! the lines file's writer properties and times that write only (medians of
//! `RUNS`, 3 by default). fenrun's `--lines-out` settle phase less this is
//! what settling the lines and making their columns costs.
//!
//! `lines_floor LINES.parquet OUT.parquet [RUNS]`

use std::fs::File;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use fenrun_arrow::write::{lines_properties, TableWriter, BATCH_ROWS};
use fenrun_arrow::TableFormat;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn run(lines: &str, out: &str, runs: usize) -> Result<(), Box<dyn std::error::Error>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(lines)?)?;
    let schema = reader.schema().clone();
    let blocks = reader
        .with_batch_size(BATCH_ROWS)
        .build()?
        .collect::<Result<Vec<_>, _>>()?;
    let rows: usize = blocks.iter().map(|b| b.num_rows()).sum();
    let path = Path::new(out);
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let mut w = TableWriter::create_with(
            path,
            TableFormat::Parquet,
            schema.clone(),
            lines_properties(&schema),
        )?;
        for b in &blocks {
            w.write(b, path)?;
        }
        w.close(path)?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let shown: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
    println!(
        "{rows} lines in {} blocks written in {:.2} s (median; runs {} s)",
        blocks.len(),
        times.get(times.len() / 2).copied().unwrap_or_default(),
        shown.join(", ")
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(lines), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: lines_floor LINES.parquet OUT.parquet [RUNS]");
        return ExitCode::from(2);
    };
    let runs = args
        .get(2)
        .and_then(|r| r.parse().ok())
        .unwrap_or(3usize)
        .max(1);
    match run(lines, out, runs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lines_floor: {e}");
            ExitCode::FAILURE
        }
    }
}
