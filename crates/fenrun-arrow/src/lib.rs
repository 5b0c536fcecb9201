//! # fenrun-arrow — columnar input and output for fenrun
//!
//! Reads a batch (members, groups, orders, refunds) from Arrow record batches,
//! Parquet files or CSV files, and writes settlement lines and totals back as
//! Arrow, Parquet or CSV, so that the core [`fenrun`] stays pure and the CLI
//! and the Python binding share one conversion.
//!
//! Money columns are read exactly: decimal128 (or decimal32/64/256), decimal
//! strings in the strict form, or integers. A float money column is refused
//! with `float_number`. Validation of meaning is the core's: the same codes as
//! for a JSON batch, with paths naming the table and row (`orders[41].seller`).
//!
//! | table | columns (**required**) |
//! |---|---|
//! | members | **id**, sponsor, rank, active, `attrs.<name>`… |
//! | groups | **id**, **owner**, **size** |
//! | orders | **id**, seller, buyer, **amount**, at, refund_of |
//! | refunds | **id**, **refund_of**, **amount**, at |
//!
//! Orders are settled in row order; a row with `refund_of` is a refund (as in
//! the JSON `events`). Rows of a separate refunds table come after every order.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, RecordBatch, StringArray, Decimal128Array};
//! let policy = fenrun::Policy::from_json(r#"{"version": 1,
//!   "ranks": [{"id": "member"}, {"id": "group_owner", "rate": "0.10"}],
//!   "rules": [{"id": "spread", "type": "differential"}]}"#)?;
//! let members = RecordBatch::try_from_iter([
//!     ("id", Arc::new(StringArray::from(vec!["m1"])) as ArrayRef),
//!     ("rank", Arc::new(StringArray::from(vec!["group_owner"])) as ArrayRef),
//! ]).unwrap();
//! let orders = RecordBatch::try_from_iter([
//!     ("id", Arc::new(StringArray::from(vec!["o1"])) as ArrayRef),
//!     ("seller", Arc::new(StringArray::from(vec!["m1"])) as ArrayRef),
//!     ("amount", Arc::new(Decimal128Array::from(vec![12345]).with_precision_and_scale(12, 2).unwrap()) as ArrayRef),
//! ]).unwrap();
//! let tables = fenrun_arrow::Tables { members: members.into(), orders: orders.into(), ..Default::default() };
//! let batch = tables.into_batch(&policy)?;
//! let settlement = fenrun::settle(&policy, batch)?;
//! assert_eq!(settlement.total_of("m1").unwrap().to_string(), "12.35"); // 0.10 × 123.45 = 12.345 → 12.35
//! # Ok::<(), fenrun::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod files;
pub mod read;
pub mod write;

pub use arrow_array::RecordBatch;
pub use files::{read_table, TableChunks, TableFormat, CHUNK_ROWS};
pub use read::ReadOptions;
pub use write::{
    comparison_batch, earnings_batch, lines_batch, rank_changes_batch, totals_batch, LineArrays,
    LineColumns, LinesFile,
};

use std::path::Path;

use fenrun::input::{rows_from_value, BatchRecords, EventRecord, GroupRecord, MemberRecord};
use fenrun::{
    Batch, BatchBuilder, Engine, Error, Finished, Lines, Policy, Result, SettleOptions, Settlement,
};

/// One table's rows: Arrow record batches, or JSON records (a binding's list
/// of dicts, with the field names of the JSON batch).
#[derive(Debug, Clone)]
pub enum Rows {
    /// Record batches, read by column ([`read`]).
    Arrow(Vec<RecordBatch>),
    /// A JSON array of records, parsed by the core's serde shapes.
    Json(serde_json::Value),
}

impl Default for Rows {
    fn default() -> Rows {
        Rows::Arrow(Vec::new())
    }
}

impl From<Vec<RecordBatch>> for Rows {
    fn from(batches: Vec<RecordBatch>) -> Rows {
        Rows::Arrow(batches)
    }
}

impl From<RecordBatch> for Rows {
    fn from(batch: RecordBatch) -> Rows {
        Rows::Arrow(vec![batch])
    }
}

impl Rows {
    fn read<T: serde::de::DeserializeOwned>(
        self,
        name: &str,
        opts: &ReadOptions,
        arrow: fn(&[RecordBatch], &str, &ReadOptions) -> Result<Vec<T>>,
    ) -> Result<Vec<T>> {
        match self {
            Rows::Arrow(batches) => arrow(&batches, name, opts),
            Rows::Json(rows) => rows_from_value(name, rows),
        }
    }
}

/// A batch given as tables.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// The members table.
    pub members: Rows,
    /// The groups table (may be empty).
    pub groups: Rows,
    /// Orders, and refunds in place when the table has `refund_of`.
    pub orders: Rows,
    /// Refunds given apart; they come after every order.
    pub refunds: Rows,
}

impl Tables {
    /// Read each table from a file (Parquet or CSV, by extension).
    pub fn from_files(
        members: &Path,
        groups: Option<&Path>,
        orders: &Path,
        refunds: Option<&Path>,
    ) -> Result<Tables> {
        let opt = |p: Option<&Path>, name| p.map_or(Ok(Vec::new()), |p| read_table(p, name));
        Ok(Tables {
            members: read_table(members, "members")?.into(),
            groups: opt(groups, "groups")?.into(),
            orders: read_table(orders, "orders")?.into(),
            refunds: opt(refunds, "refunds")?.into(),
        })
    }

    /// Convert to records without validating their meaning; returns the
    /// records and how many of the events came from the orders table.
    pub fn into_records(self) -> Result<(BatchRecords, usize)> {
        self.into_records_with(&ReadOptions::default())
    }

    /// [`Tables::into_records`] with read options (floats as money).
    pub fn into_records_with(self, opts: &ReadOptions) -> Result<(BatchRecords, usize)> {
        let (events, orders) = event_records(self.orders, self.refunds, opts)?;
        let records = BatchRecords {
            members: self.members.read("members", opts, read::members)?,
            groups: self.groups.read("groups", opts, read::groups)?,
            events,
        };
        Ok((records, orders))
    }

    /// Convert and validate against `policy`. Errors name the table and row:
    /// the core's `events[i]` becomes `orders[i]` or `refunds[j]`.
    pub fn into_batch(self, policy: &Policy) -> Result<Batch> {
        self.into_batch_with(policy, &ReadOptions::default())
    }

    /// [`Tables::into_batch`] with read options (floats as money).
    pub fn into_batch_with(self, policy: &Policy, opts: &ReadOptions) -> Result<Batch> {
        self.into_columns_with(opts)?.validate(policy)
    }

    /// Read the tables without validating their meaning: members and groups
    /// become records; orders and refunds given as Arrow stay columns
    /// ([`read::EventTable`], no record per event), in chunks of at most
    /// [`CHUNK_ROWS`] rows that [`Columns::validate`] takes one after another,
    /// as [`validate_files`] does (no column is joined or copied whole).
    pub fn into_columns_with(self, opts: &ReadOptions) -> Result<Columns> {
        // Members, groups, then events: the order of a JSON batch's fields and
        // of [`validate_files`].
        let members = self.members.read("members", opts, read::members)?;
        let groups = self.groups.read("groups", opts, read::groups)?;
        let events = match (self.orders, self.refunds) {
            (Rows::Arrow(orders), Rows::Arrow(refunds)) => {
                // Every chunk is read (converted and checked for kinds and
                // nulls) here, before any is validated: a table that cannot
                // be read is reported before an error of meaning.
                let mut chunks = Vec::new();
                let mut rows = [0, 0];
                for (table, batches) in [(0, &orders), (1, &refunds)] {
                    for batch in batches.iter() {
                        let mut from = 0;
                        while from < batch.num_rows() {
                            let len = CHUNK_ROWS.min(batch.num_rows() - from);
                            chunks.push(event_chunk(
                                table,
                                batch.slice(from, len),
                                opts,
                                &mut rows,
                            )?);
                            from += len;
                        }
                    }
                }
                Events::Chunks(chunks, rows[0])
            }
            (orders, refunds) => {
                let (events, orders) = event_records(orders, refunds, opts)?;
                Events::Records(events, orders)
            }
        };
        Ok(Columns {
            members,
            groups,
            events,
        })
    }
}

/// Read and validate a batch from table files (Parquet or CSV, by extension),
/// the orders and refunds a chunk at a time ([`TableChunks`]: [`CHUNK_ROWS`]
/// rows of a Parquet file), each chunk validated ([`BatchBuilder`]) and dropped
/// before the next is read, so that the event columns are never all in memory.
/// The batch is the one [`Tables::from_files`] and [`Tables::into_batch`] give,
/// on up to `threads` threads (see [`Batch::from_columns_on`]; with two or
/// more, the next chunk is also decoded while this one is validated). So is the
/// error, with one difference when several tables are broken: a table that
/// cannot be read or converted is reported as its turn comes (members, groups,
/// then each chunk of orders and refunds), but always before an error of
/// meaning in the events.
pub fn validate_files(
    policy: &Policy,
    files: &TableFiles<'_>,
    opts: &ReadOptions,
    threads: usize,
) -> Result<Batch> {
    validate_files_in(policy, files, opts, threads, CHUNK_ROWS)
}

/// [`validate_files`], counting in `progress` the order and refund rows read
/// and validated (a chunk at a time), for a progress bar another thread draws.
pub fn validate_files_counted(
    policy: &Policy,
    files: &TableFiles<'_>,
    opts: &ReadOptions,
    threads: usize,
    progress: &fenrun::SettleProgress,
) -> Result<Batch> {
    validate_chunks(policy, files, opts, threads, CHUNK_ROWS, Some(progress))
}

/// [`validate_files`] with chunks of at most `chunk_rows` rows of a Parquet file.
pub fn validate_files_in(
    policy: &Policy,
    files: &TableFiles<'_>,
    opts: &ReadOptions,
    threads: usize,
    chunk_rows: usize,
) -> Result<Batch> {
    validate_chunks(policy, files, opts, threads, chunk_rows, None)
}

fn validate_chunks(
    policy: &Policy,
    files: &TableFiles<'_>,
    opts: &ReadOptions,
    threads: usize,
    chunk_rows: usize,
    progress: Option<&fenrun::SettleProgress>,
) -> Result<Batch> {
    let members = read::members(&read_table(files.members, "members")?, "members", opts)?;
    let groups = match files.groups {
        Some(path) => read::groups(&read_table(path, "groups")?, "groups", opts)?,
        None => Vec::new(),
    };
    let chunks = ChunkFiles {
        files,
        opts,
        threads,
        chunk_rows,
        progress,
    };
    let tables = chunks.open()?;
    let from_orders = tables.0.rows();
    let rows = from_orders + tables.1.as_ref().map_or(0, TableChunks::rows);
    let rename = |e: Error| e.map_path(|p| event_path(p, from_orders));
    let mut builder = BatchBuilder::new(members, &groups, policy)?.threads(threads);
    builder.reserve(rows);
    let pushed = chunks.push(tables, rows, &mut |c| builder.push_events(c))?;
    match builder.finish_or_again(pushed).map_err(rename)? {
        Finished::Batch(batch) => Ok(batch),
        // The files read again, a row at a time (§14.2).
        Finished::Again(mut again) => {
            again.reserve(rows);
            let pushed = chunks.push(chunks.open()?, rows, &mut |c| again.push_events(c))?;
            pushed.and_then(|()| again.finish()).map_err(rename)
        }
    }
}

/// The order and refund files of [`validate_files`], read a chunk at a time.
struct ChunkFiles<'a> {
    files: &'a TableFiles<'a>,
    opts: &'a ReadOptions,
    threads: usize,
    chunk_rows: usize,
    progress: Option<&'a fenrun::SettleProgress>,
}

impl ChunkFiles<'_> {
    /// The tables, a chunk at a time.
    fn open(&self) -> Result<(TableChunks, Option<TableChunks>)> {
        let orders = TableChunks::open_with(self.files.orders, "orders", self.chunk_rows)?;
        let refunds = self
            .files
            .refunds
            .map(|p| TableChunks::open_with(p, "refunds", self.chunk_rows))
            .transpose()?;
        Ok((orders, refunds))
    }

    /// Give every chunk of the opened `tables`' `events` rows to `push`: a
    /// table that cannot be read or converted is the error; `push`'s first
    /// error is the `Ok` value, after every chunk was read.
    fn push(
        &self,
        (orders, refunds): (TableChunks, Option<TableChunks>),
        events: usize,
        push: &mut dyn FnMut(&read::EventTable) -> Result<()>,
    ) -> Result<Result<()>> {
        if let Some(p) = self.progress {
            p.start(events as u64);
        }
        // After an error of meaning, the rest is still read: an unreadable row
        // comes first, as when the whole tables are read before validation.
        let mut failed = None;
        let mut rows = [0, 0];
        let mut take = |table: usize, chunk: Result<RecordBatch>| -> Result<()> {
            let events = event_chunk(table, chunk?, self.opts, &mut rows)?;
            if failed.is_none() {
                failed = push(&events).err();
            }
            if let Some(p) = self.progress {
                p.add(fenrun::input::EventColumns::len(&events) as u64);
            }
            Ok(())
        };
        let tables = std::iter::once((0, orders)).chain(refunds.map(|r| (1, r)));
        let chunks = tables.flat_map(|(table, chunks)| chunks.map(move |c| (table, c)));
        if self.threads > 1 {
            // The next chunk is decoded on another thread while this one is validated.
            std::thread::scope(|scope| {
                let (send, receive) = std::sync::mpsc::sync_channel(1);
                scope.spawn(move || {
                    for chunk in chunks {
                        if send.send(chunk).is_err() {
                            break;
                        }
                    }
                });
                receive
                    .into_iter()
                    .try_for_each(|(table, chunk)| take(table, chunk))
            })?;
        } else {
            chunks
                .into_iter()
                .try_for_each(|(table, chunk)| take(table, chunk))?;
        }
        Ok(failed.map_or(Ok(()), Err))
    }
}

/// Read a chunk of the orders table (`table` 0) or of the refunds table (1)
/// whose rows come after `rows` (rows already read of each), naming its rows
/// in errors, and count them in.
fn event_chunk(
    table: usize,
    chunk: RecordBatch,
    opts: &ReadOptions,
    rows: &mut [usize; 2],
) -> Result<read::EventTable> {
    let len = chunk.num_rows();
    let one = [chunk];
    let (o, r): (&[RecordBatch], &[RecordBatch]) =
        if table == 0 { (&one, &[]) } else { (&[], &one) };
    let events = read::EventTable::new_at(o, r, opts, *rows)?;
    if let Some(n) = rows.get_mut(table) {
        *n += len;
    }
    Ok(events)
}

/// The files of a batch given as tables, for [`validate_files`].
#[derive(Debug, Clone, Copy)]
pub struct TableFiles<'a> {
    /// The members table.
    pub members: &'a Path,
    /// The groups table, if any.
    pub groups: Option<&'a Path>,
    /// Orders, and refunds in place when the table has `refund_of`.
    pub orders: &'a Path,
    /// Refunds given apart; they come after every order.
    pub refunds: Option<&'a Path>,
}

/// The orders table's rows then the refunds table's, as records, with how
/// many came from the orders table.
fn event_records(
    orders: Rows,
    refunds: Rows,
    opts: &ReadOptions,
) -> Result<(Vec<EventRecord>, usize)> {
    let mut events = orders.read("orders", opts, read::orders)?;
    let from_orders = events.len();
    events.extend(refunds.read("refunds", opts, read::refunds)?);
    Ok((events, from_orders))
}

/// A batch's tables read by [`Tables::into_columns_with`], not yet validated.
#[derive(Debug)]
pub struct Columns {
    members: Vec<MemberRecord>,
    groups: Vec<GroupRecord>,
    events: Events,
}

#[derive(Debug)]
enum Events {
    /// Chunks of the tables in order, with how many rows the orders table has.
    Chunks(Vec<read::EventTable>, usize),
    /// Records, the first `.1` from the orders table.
    Records(Vec<EventRecord>, usize),
}

impl Columns {
    /// Validate against `policy`, naming tables and rows in errors.
    pub fn validate(self, policy: &Policy) -> Result<Batch> {
        self.validate_on(policy, 1)
    }

    /// [`Columns::validate`] on up to `threads` threads
    /// (see [`Batch::from_columns_on`]).
    pub fn validate_on(self, policy: &Policy, threads: usize) -> Result<Batch> {
        let (members, groups) = (self.members, &self.groups);
        let (batch, orders) = match &self.events {
            Events::Chunks(chunks, orders) => {
                let rows = chunks.iter().map(fenrun::input::EventColumns::len).sum();
                let build = || {
                    let mut builder = BatchBuilder::new(members, groups, policy)?.threads(threads);
                    builder.reserve(rows);
                    let pushed = chunks.iter().try_for_each(|c| builder.push_events(c));
                    match builder.finish_or_again(pushed)? {
                        Finished::Batch(batch) => Ok(batch),
                        // The chunks taken again, a row at a time (§14.2).
                        Finished::Again(mut again) => {
                            again.reserve(rows);
                            chunks.iter().try_for_each(|c| again.push_events(c))?;
                            again.finish()
                        }
                    }
                };
                (build(), *orders)
            }
            Events::Records(events, orders) => (
                Batch::from_columns_on(members, groups, events.as_slice(), policy, threads),
                *orders,
            ),
        };
        batch.map_err(|e| e.map_path(|p| event_path(p, orders)))
    }
}

/// Validate records read by [`Tables::into_records`] (whose first `orders`
/// events came from the orders table), naming tables and rows in errors.
pub fn validate(records: BatchRecords, orders: usize, policy: &Policy) -> Result<Batch> {
    Columns {
        members: records.members,
        groups: records.groups,
        events: Events::Records(records.events, orders),
    }
    .validate(policy)
}

/// `events[i]…` → `orders[i]…` for i < `orders`, else `refunds[i − orders]…`.
fn event_path(path: &str, orders: usize) -> String {
    fenrun::input::map_event_index(path, |i| match i.checked_sub(orders) {
        None => format!("orders[{i}]"),
        Some(j) => format!("refunds[{j}]"),
    })
}

/// Settle while streaming every line to a table file (Parquet or CSV, by
/// extension) in blocks of [`BATCH_ROWS`](write::BATCH_ROWS) lines; the
/// returned settlement holds totals, rank changes and summary, no lines.
/// `options` are those of [`Engine::settle_with`] (progress, `as_of`), their
/// `lines` taken as [`Lines::Stream`]. With `options.threads` above 1 a
/// second thread encodes and writes each block while the next is settled;
/// the blocks are the same either way, and so are the file's bytes.
pub fn settle_lines_to_file(
    engine: &Engine,
    path: &Path,
    options: SettleOptions,
) -> Result<Settlement> {
    let format = TableFormat::from_path(path)?;
    let rate_scale = engine.policy().rate_scale();
    let columns = LineColumns::of(engine.policy());
    let names = engine.line_names();
    let mut file = LinesFile::create(path, format, &names, engine.scale(), rate_scale, columns)?;
    let threads = options.threads;
    let options = options.lines(Lines::Stream);
    let rows = write::BATCH_ROWS;
    if threads < 2 {
        let s = engine.settle_blocks(options, rows, |block| file.write(block))?;
        file.close()?;
        return Ok(s);
    }
    // Two blocks in flight at most: memory stays bounded by blocks, not
    // lines. Written blocks come back to be filled again.
    let (send, receive) = std::sync::mpsc::sync_channel::<fenrun::LineTable>(2);
    let (give_back, written) = std::sync::mpsc::channel::<fenrun::LineTable>();
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<()> {
            for block in receive {
                file.write(&block)?;
                // The settling side may have finished: a block it will not
                // take back is dropped.
                let _ = give_back.send(block);
            }
            file.close()
        });
        let settled = engine.settle_blocks(options, rows, |block| {
            let spare = written.try_recv().unwrap_or_default();
            // A closed channel means the writer stopped on an error, which
            // its join below reports.
            send.send(std::mem::replace(block, spare))
                .map_err(|_| Error::SinkError {
                    path: "lines".into(),
                    detail: "the writer stopped".into(),
                })
        });
        drop(send);
        let written = writer
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        // The writer's error is the cause of a settlement stopped for it.
        written?;
        settled
    })
}

/// Write the totals of a settlement to a table file (Parquet or CSV, by extension).
pub fn write_totals(s: &Settlement, path: &Path) -> Result<()> {
    write::write_table(path, TableFormat::from_path(path)?, &totals_batch(s)?)
}

/// Write each member's earnings by source ([`earnings_batch`]) to a table
/// file (.parquet or .csv).
pub fn write_earnings(e: &fenrun::Earnings<'_>, path: &Path) -> Result<()> {
    write::write_table(path, TableFormat::from_path(path)?, &earnings_batch(e)?)
}

/// Write the lines of a settlement (which kept them) to a table file.
pub fn write_lines(s: &Settlement, policy: &Policy, path: &Path) -> Result<()> {
    write::write_table(
        path,
        TableFormat::from_path(path)?,
        &lines_batch(s, policy.rate_scale(), LineColumns::of(policy))?,
    )
}

#[cfg(test)]
mod tests {
    use super::event_path;

    #[test]
    fn event_paths_name_the_table() {
        assert_eq!(event_path("events[3].seller", 5), "orders[3].seller");
        assert_eq!(event_path("events[5].amount", 5), "refunds[0].amount");
        assert_eq!(event_path("events[12]", 5), "refunds[7]");
        assert_eq!(event_path("members[1].sponsor", 5), "members[1].sponsor");
    }
}
