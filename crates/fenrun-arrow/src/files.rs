//! Table files: Parquet through arrow-rs, CSV read as text columns (never
//! type-inferred: an amount column stays the exact text the file holds).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use fenrun::{Error, Result};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::write::BATCH_ROWS;

/// A table file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Apache Parquet (`.parquet`, `.pq`).
    Parquet,
    /// Comma-separated values with a header row (`.csv`).
    Csv,
}

impl TableFormat {
    /// The format named by a file's extension.
    pub fn from_path(path: &Path) -> Result<TableFormat> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("parquet" | "pq") => Ok(TableFormat::Parquet),
            Some("csv") => Ok(TableFormat::Csv),
            _ => Err(Error::InvalidTable {
                path: path.display().to_string(),
                detail: "unknown table format: name the file .parquet or .csv".to_owned(),
            }),
        }
    }
}

fn unreadable(name: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::InvalidTable {
        path: name.to_owned(),
        detail: format!("cannot read {}: {e}", path.display()),
    }
}

/// Read the whole table `name` from `path` (Parquet or CSV, by extension).
/// In a CSV file every column is text and an empty cell is null.
pub fn read_table(path: &Path, name: &str) -> Result<Vec<RecordBatch>> {
    let file = File::open(path).map_err(|e| unreadable(name, path, e))?;
    match TableFormat::from_path(path)? {
        TableFormat::Parquet => {
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|b| {
                    let rows = parquet_batch_rows(b.metadata());
                    b.with_batch_size(rows).build()
                })
                .map_err(|e| unreadable(name, path, e))?;
            reader
                .map(|b| b.map_err(|e| unreadable(name, path, e)))
                .collect()
        }
        TableFormat::Csv => read_csv(file, name, path),
    }
}

/// Rows of a chunk read by [`TableChunks`]: a quarter of a Parquet row group
/// of the usual size, so that a chunk's columns stay small next to the whole
/// file's (at 10M orders, 256k rows a chunk peak about 25 MB lower than a
/// million, at the same speed).
pub const CHUNK_ROWS: usize = 1 << 18;

/// A table file read a chunk (record batch) at a time: a Parquet file's rows
/// in batches of [`CHUNK_ROWS`], a CSV file's all at once.
pub struct TableChunks {
    rows: usize,
    chunks: Box<dyn Iterator<Item = Result<RecordBatch>> + Send>,
}

impl std::fmt::Debug for TableChunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableChunks")
            .field("rows", &self.rows)
            .finish()
    }
}

impl TableChunks {
    /// Open table `name` at `path` (Parquet or CSV, by extension).
    pub fn open(path: &Path, name: &str) -> Result<TableChunks> {
        TableChunks::open_with(path, name, CHUNK_ROWS)
    }

    /// [`TableChunks::open`] with chunks of at most `chunk_rows` rows of a
    /// Parquet file (a CSV file comes in chunks of its own).
    pub fn open_with(path: &Path, name: &str, chunk_rows: usize) -> Result<TableChunks> {
        match TableFormat::from_path(path)? {
            TableFormat::Parquet => {
                let file = File::open(path).map_err(|e| unreadable(name, path, e))?;
                let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                    .map_err(|e| unreadable(name, path, e))?;
                let meta = builder.metadata();
                let rows = usize::try_from(meta.file_metadata().num_rows()).unwrap_or(0);
                let chunk = parquet_batch_rows(meta).min(chunk_rows).max(1);
                let reader = builder
                    .with_batch_size(chunk)
                    .build()
                    .map_err(|e| unreadable(name, path, e))?;
                let (name, path) = (name.to_owned(), path.to_owned());
                Ok(TableChunks {
                    rows,
                    chunks: Box::new(
                        reader.map(move |b| b.map_err(|e| unreadable(&name, &path, e))),
                    ),
                })
            }
            TableFormat::Csv => {
                let batches = read_table(path, name)?;
                Ok(TableChunks {
                    rows: batches.iter().map(RecordBatch::num_rows).sum(),
                    chunks: Box::new(batches.into_iter().map(Ok)),
                })
            }
        }
    }

    /// Rows in the whole table.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

impl Iterator for TableChunks {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        self.chunks.next()
    }
}

/// Rows per record batch read from a Parquet file: the whole file in one batch
/// (its columns then need no joining), unless a column's text could pass the
/// 2 GiB a string array addresses; then batches of about 1 GiB of it.
fn parquet_batch_rows(meta: &parquet::file::metadata::ParquetMetaData) -> usize {
    const MAX_COLUMN_BYTES: i64 = 1 << 30;
    let rows = meta.file_metadata().num_rows().max(1);
    let widest = (0..meta.file_metadata().schema_descr().num_columns())
        .map(|c| {
            meta.row_groups()
                .iter()
                .filter_map(|g| g.columns().get(c))
                .map(|chunk| chunk.uncompressed_size())
                .sum::<i64>()
        })
        .max()
        .unwrap_or(0);
    let by_size = i128::from(MAX_COLUMN_BYTES) * i128::from(rows) / i128::from(widest.max(1));
    let rows = i128::from(rows).min(by_size);
    usize::try_from(rows).map_or(BATCH_ROWS, |r| r.max(BATCH_ROWS))
}

fn read_csv(file: File, name: &str, path: &Path) -> Result<Vec<RecordBatch>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let headers = reader
        .headers()
        .map_err(|e| unreadable(name, path, e))?
        .clone();
    let schema = Arc::new(Schema::new(
        headers
            .iter()
            .map(|h| Field::new(h, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let new_builders =
        || -> Vec<StringBuilder> { headers.iter().map(|_| StringBuilder::new()).collect() };
    let mut builders = new_builders();
    let mut batches = Vec::new();
    let mut rows = 0;
    let mut record = csv::ByteRecord::new();
    let flush = |builders: &mut Vec<StringBuilder>| -> Result<RecordBatch> {
        let columns: Vec<ArrayRef> = builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        RecordBatch::try_new(schema.clone(), columns).map_err(|e| unreadable(name, path, e))
    };
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(unreadable(name, path, e)),
        }
        for (b, cell) in builders.iter_mut().zip(record.iter()) {
            if cell.is_empty() {
                b.append_null();
            } else {
                let text = std::str::from_utf8(cell).map_err(|_| Error::InvalidTable {
                    path: format!("{name}[{}]", batches.len() * BATCH_ROWS + rows),
                    detail: "a cell is not UTF-8".to_owned(),
                })?;
                b.append_value(text);
            }
        }
        rows += 1;
        if rows == BATCH_ROWS {
            batches.push(flush(&mut builders)?);
            rows = 0;
        }
    }
    if rows > 0 || batches.is_empty() {
        batches.push(flush(&mut builders)?);
    }
    Ok(batches)
}
