//! Settlement lines and totals → Arrow record batches, and table writers
//! (Parquet or CSV) that a streaming settlement feeds line by line.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Decimal128Builder, StringBuilder, UInt32Builder};
use arrow_array::{ArrayRef, ListArray, RecordBatch, StringArray, StructArray, UInt64Array};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use fenrun::{Error, LineView, Result, Settlement};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rust_decimal::Decimal;

use crate::TableFormat;

/// Rows per record batch (and Parquet row-group flush) when writing lines.
pub const BATCH_ROWS: usize = 64 * 1024;

/// The largest decimal128 precision.
const PRECISION: u8 = 38;

/// Column names of the lines table, in §9 order (`weight` only on pool
/// lines). A policy that can pay fixed amounts (§12.2) adds [`FIXED_COLUMN`]
/// after `rate`; one with a hold period (§14.1) adds [`AVAILABLE_COLUMN`] last.
pub const LINE_COLUMNS: [&str; 10] = [
    "order",
    "refund",
    "rule",
    "kind",
    "beneficiary",
    "level",
    "base",
    "rate",
    "weight",
    "amount",
];

/// The lines table's column of a fixed amount paid in place of a rate, money
/// at the policy scale: present when the policy can pay one
/// ([`fenrun::Policy::pays_fixed`]), null on every other line.
pub const FIXED_COLUMN: &str = "fixed";

/// The lines table's column of when a line becomes available under the
/// policy's hold period (§14.1), `YYYY-MM-DDTHH:MM:SSZ` text: present when
/// the policy has a hold, null on pool and member-cap lines and on the lines
/// of an order not received yet.
pub const AVAILABLE_COLUMN: &str = "available_at";

/// Which optional columns a lines table has: what its policy can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineColumns {
    /// [`FIXED_COLUMN`]: the policy can pay fixed amounts (§12.2).
    pub fixed: bool,
    /// [`AVAILABLE_COLUMN`]: the policy has a hold period (§14.1).
    pub available_at: bool,
}

impl LineColumns {
    /// The columns of the lines of `policy`.
    pub fn of(policy: &fenrun::Policy) -> LineColumns {
        LineColumns {
            fixed: policy.pays_fixed(),
            available_at: policy.hold().is_some(),
        }
    }

    /// The column names, in order.
    pub fn names(self) -> Vec<&'static str> {
        let mut names = LINE_COLUMNS.to_vec();
        if self.fixed {
            names.insert(8, FIXED_COLUMN);
        }
        if self.available_at {
            names.push(AVAILABLE_COLUMN);
        }
        names
    }
}

/// The lines schema: money (`base`, `amount`) as decimal128 at the policy's
/// scale, `rate` at the policy's [`rate_scale`](fenrun::Policy::rate_scale),
/// `weight` (pool lines) as a shortest-form decimal string, since a weight is
/// any metric value.
pub fn lines_schema(scale: u32, rate_scale: u32, columns: LineColumns) -> SchemaRef {
    let money = DataType::Decimal128(PRECISION, scale as i8);
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    let mut fields = vec![
        text("order", true),
        text("refund", true),
        // Null on a member-cap line (§12.3), which no rule writes.
        text("rule", true),
        text("kind", false),
        text("beneficiary", false),
        Field::new("level", DataType::UInt32, true),
        Field::new("base", money.clone(), false),
        Field::new(
            "rate",
            DataType::Decimal128(PRECISION, rate_scale as i8),
            true,
        ),
    ];
    if columns.fixed {
        fields.push(Field::new(FIXED_COLUMN, money.clone(), true));
    }
    fields.push(text("weight", true));
    fields.push(Field::new("amount", money, false));
    if columns.available_at {
        fields.push(text(AVAILABLE_COLUMN, true));
    }
    Arc::new(Schema::new(fields))
}

/// The totals schema: `member`, `amount` (decimal128 at the policy scale),
/// and with `split` (a settlement asked `as_of`, §14.1) `available` and
/// `pending` after it.
pub fn totals_schema(scale: u32, split: bool) -> SchemaRef {
    let money = |name: &str| Field::new(name, DataType::Decimal128(PRECISION, scale as i8), false);
    let mut fields = vec![Field::new("member", DataType::Utf8, false), money("amount")];
    if split {
        fields.extend([money("available"), money("pending")]);
    }
    Arc::new(Schema::new(fields))
}

/// `d` as an integer count of 10^-scale units; `None` if it has more decimals
/// (never for money rounded at `scale`) or does not fit.
fn units(d: Decimal, scale: u32) -> Option<i128> {
    let d = if d.scale() > scale { d.normalize() } else { d };
    let up = scale.checked_sub(d.scale())?;
    d.mantissa().checked_mul(10i128.checked_pow(up)?)
}

fn unscalable(what: &str, d: Decimal, scale: u32) -> Error {
    Error::Overflow {
        path: "lines".to_owned(),
        detail: format!("{what} {d} does not fit decimal128 at scale {scale}"),
    }
}

/// Accumulates lines into Arrow columns.
pub struct LinesBuilder {
    schema: SchemaRef,
    scale: u32,
    rate_scale: u32,
    order: StringBuilder,
    refund: StringBuilder,
    rule: StringBuilder,
    kind: StringBuilder,
    beneficiary: StringBuilder,
    level: UInt32Builder,
    base: Decimal128Builder,
    rate: Decimal128Builder,
    /// `None` when the table has no `fixed` column.
    fixed: Option<Decimal128Builder>,
    weight: StringBuilder,
    amount: Decimal128Builder,
    /// `None` when the table has no `available_at` column.
    available_at: Option<StringBuilder>,
    rows: usize,
}

impl LinesBuilder {
    /// An empty builder for lines at the policy's `scale` and `rate_scale`,
    /// with the optional `columns`.
    pub fn new(scale: u32, rate_scale: u32, columns: LineColumns) -> LinesBuilder {
        let money = || {
            Decimal128Builder::new().with_data_type(DataType::Decimal128(PRECISION, scale as i8))
        };
        LinesBuilder {
            schema: lines_schema(scale, rate_scale, columns),
            fixed: columns.fixed.then(money),
            available_at: columns.available_at.then(StringBuilder::new),
            scale,
            rate_scale,
            order: StringBuilder::new(),
            refund: StringBuilder::new(),
            rule: StringBuilder::new(),
            kind: StringBuilder::new(),
            beneficiary: StringBuilder::new(),
            level: UInt32Builder::new(),
            base: money(),
            rate: Decimal128Builder::new()
                .with_data_type(DataType::Decimal128(PRECISION, rate_scale as i8)),
            weight: StringBuilder::new(),
            amount: money(),
            rows: 0,
        }
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// No rows held.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Append one line.
    pub fn push(&mut self, l: &LineView<'_>) -> Result<()> {
        let base =
            units(l.base, self.scale).ok_or_else(|| unscalable("base", l.base, self.scale))?;
        let amount = units(l.amount, self.scale)
            .ok_or_else(|| unscalable("amount", l.amount, self.scale))?;
        let rate = match l.rate {
            Some(r) => Some(
                units(r, self.rate_scale).ok_or_else(|| unscalable("rate", r, self.rate_scale))?,
            ),
            None => None,
        };
        self.order.append_option(l.order);
        self.refund.append_option(l.refund);
        self.rule.append_option(l.rule);
        self.kind.append_value(l.kind);
        self.beneficiary.append_value(l.beneficiary);
        self.level.append_option(l.level);
        self.base.append_value(base);
        self.rate.append_option(rate);
        if let Some(b) = &mut self.fixed {
            let fixed = match l.fixed {
                Some(f) => {
                    Some(units(f, self.scale).ok_or_else(|| unscalable("fixed", f, self.scale))?)
                }
                None => None,
            };
            b.append_option(fixed);
        }
        self.weight
            .append_option(l.weight.map(fenrun::short_string));
        self.amount.append_value(amount);
        if let Some(b) = &mut self.available_at {
            b.append_option(l.available_at.map(|t| t.to_string()));
        }
        self.rows += 1;
        Ok(())
    }

    /// The rows held as a record batch; the builder is empty afterwards.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.order.finish()),
            Arc::new(self.refund.finish()),
            Arc::new(self.rule.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.beneficiary.finish()),
            Arc::new(self.level.finish()),
            Arc::new(self.base.finish()),
            Arc::new(self.rate.finish()),
        ];
        if let Some(b) = &mut self.fixed {
            columns.push(Arc::new(b.finish()));
        }
        columns.push(Arc::new(self.weight.finish()));
        columns.push(Arc::new(self.amount.finish()));
        if let Some(b) = &mut self.available_at {
            columns.push(Arc::new(b.finish()));
        }
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| Error::InvalidTable {
            path: "lines".to_owned(),
            detail: e.to_string(),
        })
    }
}

/// Every line of a settlement as one record batch, with the optional `columns`.
pub fn lines_batch(s: &Settlement, rate_scale: u32, columns: LineColumns) -> Result<RecordBatch> {
    let mut b = LinesBuilder::new(s.scale(), rate_scale, columns);
    for l in s.lines() {
        b.push(&l)?;
    }
    b.finish()
}

/// The totals (every beneficiary, sorted by id) as one record batch; a
/// settlement asked `as_of` adds what of each was available and pending.
pub fn totals_batch(s: &Settlement) -> Result<RecordBatch> {
    let scale = s.scale();
    let split = s.as_of().is_some();
    let mut member = StringBuilder::new();
    let money =
        || Decimal128Builder::new().with_data_type(DataType::Decimal128(PRECISION, scale as i8));
    let mut amounts = [money(), money(), money()];
    let push = |amounts: &mut [Decimal128Builder; 3], values: [Decimal; 3]| -> Result<()> {
        for (b, v) in amounts.iter_mut().zip(values) {
            b.append_value(units(v, scale).ok_or_else(|| unscalable("total", v, scale))?);
        }
        Ok(())
    };
    if split {
        for (m, net, available, pending) in s.split_totals() {
            member.append_value(m);
            push(&mut amounts, [net, available, pending])?;
        }
    } else {
        for (m, t) in s.totals() {
            member.append_value(m);
            push(&mut amounts, [t, Decimal::ZERO, Decimal::ZERO])?;
        }
    }
    let mut columns: Vec<ArrayRef> = vec![Arc::new(member.finish())];
    let kept = if split { 3 } else { 1 };
    for b in amounts.iter_mut().take(kept) {
        columns.push(Arc::new(b.finish()));
    }
    RecordBatch::try_new(totals_schema(scale, split), columns).map_err(|e| Error::InvalidTable {
        path: "totals".to_owned(),
        detail: e.to_string(),
    })
}

/// The fields of one leaf of `because` (§9): `metric`, `params` (`min_rank`,
/// `min_size`, `name`, each null when the leaf has none), `value`, `op`,
/// `threshold` (metric values and thresholds in shortest decimal form: they
/// are of any scale, not money).
fn because_fields() -> Fields {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    let params = Fields::from(vec![
        Field::new("min_rank", DataType::Utf8, true),
        Field::new("min_size", DataType::UInt64, true),
        Field::new("name", DataType::Utf8, true),
    ]);
    Fields::from(vec![
        text("metric"),
        Field::new("params", DataType::Struct(params), false),
        text("value"),
        text("op"),
        text("threshold"),
    ])
}

fn because_item() -> FieldRef {
    Arc::new(Field::new(
        "item",
        DataType::Struct(because_fields()),
        false,
    ))
}

/// The rank-changes schema: `member`, `from`, `to`, and `because`, the §9
/// list of leaves that made the new rank's condition hold, as a list of
/// structs (Python sees lists of dicts).
pub fn rank_changes_schema() -> SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        text("member"),
        text("from"),
        text("to"),
        Field::new("because", DataType::List(because_item()), false),
    ]))
}

/// Rank changes (in §9 order) as one record batch.
pub fn rank_changes_batch(changes: &[fenrun::RankChange]) -> Result<RecordBatch> {
    let invalid = |e: &dyn std::fmt::Display| Error::InvalidTable {
        path: "rank_changes".to_owned(),
        detail: e.to_string(),
    };
    let mut cols: [StringBuilder; 3] = Default::default();
    let mut offsets = Vec::with_capacity(changes.len() + 1);
    offsets.push(0i32);
    let (mut metric, mut value, mut op, mut threshold) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut min_rank, mut min_size, mut name) = (Vec::new(), Vec::new(), Vec::new());
    for c in changes {
        let [member, from, to] = &mut cols;
        member.append_value(&*c.member);
        from.append_value(&*c.from);
        to.append_value(&*c.to);
        for b in &c.because {
            metric.push(b.metric.as_str());
            value.push(b.value.as_str());
            op.push(b.op.as_str());
            threshold.push(b.threshold.as_str());
            min_rank.push(b.params.min_rank.as_deref());
            min_size.push(b.params.min_size);
            name.push(b.params.name.as_deref());
        }
        offsets.push(i32::try_from(metric.len()).map_err(|e| invalid(&e))?);
    }
    let fields = because_fields();
    let Some(DataType::Struct(param_fields)) = fields.get(1).map(|f| f.data_type().clone()) else {
        return Err(invalid(&"the params field is a struct"));
    };
    let params = StructArray::try_new(
        param_fields,
        vec![
            Arc::new(StringArray::from(min_rank)),
            Arc::new(UInt64Array::from(min_size)),
            Arc::new(StringArray::from(name)),
        ],
        None,
    )
    .map_err(|e| invalid(&e))?;
    let leaves = StructArray::try_new(
        fields,
        vec![
            Arc::new(StringArray::from(metric)),
            Arc::new(params),
            Arc::new(StringArray::from(value)),
            Arc::new(StringArray::from(op)),
            Arc::new(StringArray::from(threshold)),
        ],
        None,
    )
    .map_err(|e| invalid(&e))?;
    let because = ListArray::try_new(
        because_item(),
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Arc::new(leaves),
        None,
    )
    .map_err(|e| invalid(&e))?;
    let mut columns: Vec<ArrayRef> = cols
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    columns.push(Arc::new(because));
    RecordBatch::try_new(rank_changes_schema(), columns).map_err(|e| invalid(&e))
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::SinkError {
        path: "lines".to_owned(),
        detail: format!("{}: {e}", path.display()),
    }
}

/// A table file being written: Parquet (snappy) or CSV (money as decimal
/// strings at the policy scale, exactly as the JSON writes them).
pub enum TableWriter {
    /// Parquet through arrow-rs.
    Parquet(ArrowWriter<File>),
    /// CSV with a header row.
    Csv(csv::Writer<BufWriter<File>>),
}

impl TableWriter {
    /// Create `path` for rows of `schema`.
    pub fn create(path: &Path, format: TableFormat, schema: SchemaRef) -> Result<TableWriter> {
        let file = File::create(path).map_err(|e| io_error(path, e))?;
        Ok(match format {
            TableFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                TableWriter::Parquet(
                    ArrowWriter::try_new(file, schema, Some(props))
                        .map_err(|e| io_error(path, e))?,
                )
            }
            TableFormat::Csv => {
                let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
                w.write_record(schema.fields().iter().map(|f| f.name().as_str()))
                    .map_err(|e| io_error(path, e))?;
                TableWriter::Csv(w)
            }
        })
    }

    /// Append a record batch.
    pub fn write(&mut self, batch: &RecordBatch, path: &Path) -> Result<()> {
        match self {
            TableWriter::Parquet(w) => w.write(batch).map_err(|e| io_error(path, e)),
            TableWriter::Csv(w) => write_csv_rows(w, batch).map_err(|e| io_error(path, e)),
        }
    }

    /// Flush and close the file.
    pub fn close(self, path: &Path) -> Result<()> {
        match self {
            TableWriter::Parquet(w) => w.close().map(drop).map_err(|e| io_error(path, e)),
            TableWriter::Csv(mut w) => w.flush().map_err(|e| io_error(path, e)),
        }
    }
}

/// CSV rows of a batch with exact decimal text (arrow's own CSV writer would
/// also do, but this keeps money formatting the core's: `12.30`, never `12.3`).
fn write_csv_rows<W: Write>(w: &mut csv::Writer<W>, batch: &RecordBatch) -> csv::Result<()> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Decimal128Type, Int64Type, UInt32Type};
    use arrow_array::Array;
    let mut cell = String::new();
    for row in 0..batch.num_rows() {
        for col in batch.columns() {
            cell.clear();
            if col.is_valid(row) {
                match col.data_type() {
                    DataType::Utf8 => cell.push_str(col.as_string::<i32>().value(row)),
                    DataType::UInt32 => {
                        cell.push_str(&col.as_primitive::<UInt32Type>().value(row).to_string())
                    }
                    DataType::Int64 => {
                        cell.push_str(&col.as_primitive::<Int64Type>().value(row).to_string())
                    }
                    DataType::Decimal128(_, s) => {
                        let v = col.as_primitive::<Decimal128Type>().value(row);
                        let scale = u32::try_from(*s).unwrap_or(0);
                        match Decimal::try_from_i128_with_scale(v, scale) {
                            Ok(d) => cell.push_str(&fenrun::money_string(d, scale)),
                            Err(_) => cell.push_str(&v.to_string()),
                        }
                    }
                    _ => {}
                }
            }
            w.write_field(cell.as_bytes())?;
        }
        w.write_record(None::<&[u8]>)?;
    }
    Ok(())
}

/// A record batch as CSV with a header row of its column names, money in
/// the core's decimal text (what a `.csv` table file holds), to any writer
/// (stdout for `fenrun diff --format csv`).
pub fn batch_csv(batch: &RecordBatch, out: impl Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(batch.schema().fields().iter().map(|f| f.name().as_str()))?;
    write_csv_rows(&mut w, batch)?;
    w.flush()?;
    Ok(())
}

/// One line as a CSV row in the column order of [`LineColumns::names`]:
/// money at the policy scale, rates and weights in shortest form, exactly as
/// the §9 JSON writes them. `buf` is reused between calls.
pub fn write_csv_line<W: Write>(
    w: &mut csv::Writer<W>,
    buf: &mut String,
    l: &LineView<'_>,
    scale: u32,
    columns: LineColumns,
) -> csv::Result<()> {
    use std::fmt::Write as _;
    let mut field = |w: &mut csv::Writer<W>, f: &dyn Fn(&mut String)| {
        buf.clear();
        f(buf);
        w.write_field(buf.as_bytes())
    };
    w.write_field(l.order.unwrap_or_default())?;
    w.write_field(l.refund.unwrap_or_default())?;
    w.write_field(l.rule.unwrap_or_default())?;
    w.write_field(l.kind)?;
    w.write_field(l.beneficiary)?;
    field(w, &|b| {
        if let Some(level) = l.level {
            let _ = write!(b, "{level}");
        }
    })?;
    field(w, &|b| b.push_str(&fenrun::money_string(l.base, scale)))?;
    field(w, &|b| {
        if let Some(r) = l.rate {
            b.push_str(&fenrun::short_string(r));
        }
    })?;
    if columns.fixed {
        field(w, &|b| {
            if let Some(f) = l.fixed {
                b.push_str(&fenrun::money_string(f, scale));
            }
        })?;
    }
    field(w, &|b| {
        if let Some(x) = l.weight {
            b.push_str(&fenrun::short_string(x));
        }
    })?;
    field(w, &|b| b.push_str(&fenrun::money_string(l.amount, scale)))?;
    if columns.available_at {
        field(w, &|b| {
            if let Some(t) = l.available_at {
                let _ = write!(b, "{t}");
            }
        })?;
    }
    w.write_record(None::<&[u8]>)
}

/// Every line of a settlement (which kept them) as CSV with a header row,
/// with the optional `columns`.
pub fn lines_csv(s: &Settlement, out: impl Write, columns: LineColumns) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(columns.names())?;
    let mut buf = String::new();
    for l in s.lines() {
        write_csv_line(&mut w, &mut buf, &l, s.scale(), columns)?;
    }
    w.flush()?;
    Ok(())
}

enum LinesOut {
    Parquet(ArrowWriter<File>, Box<LinesBuilder>),
    Csv(csv::Writer<BufWriter<File>>, String),
}

/// A line sink writing to a table file: Parquet in record batches of
/// [`BATCH_ROWS`], or CSV row by row. Lines never sit in memory beyond one batch.
pub struct LinesFile<'p> {
    path: &'p Path,
    scale: u32,
    columns: LineColumns,
    out: LinesOut,
}

impl<'p> LinesFile<'p> {
    /// Create `path` for the lines of a policy with this `scale` and
    /// `rate_scale`, with the optional `columns`.
    pub fn create(
        path: &'p Path,
        format: TableFormat,
        scale: u32,
        rate_scale: u32,
        columns: LineColumns,
    ) -> Result<LinesFile<'p>> {
        let schema = lines_schema(scale, rate_scale, columns);
        let out = match TableWriter::create(path, format, schema)? {
            TableWriter::Parquet(w) => {
                LinesOut::Parquet(w, Box::new(LinesBuilder::new(scale, rate_scale, columns)))
            }
            TableWriter::Csv(w) => LinesOut::Csv(w, String::new()),
        };
        Ok(LinesFile {
            path,
            scale,
            columns,
            out,
        })
    }

    /// Take one line; a full batch is written out.
    pub fn push(&mut self, l: &LineView<'_>) -> Result<()> {
        match &mut self.out {
            LinesOut::Parquet(w, builder) => {
                builder.push(l)?;
                if builder.len() >= BATCH_ROWS {
                    let batch = builder.finish()?;
                    w.write(&batch).map_err(|e| io_error(self.path, e))?;
                }
                Ok(())
            }
            LinesOut::Csv(w, buf) => write_csv_line(w, buf, l, self.scale, self.columns)
                .map_err(|e| io_error(self.path, e)),
        }
    }

    /// Write what is left and close the file.
    pub fn close(self) -> Result<()> {
        match self.out {
            LinesOut::Parquet(mut w, mut builder) => {
                if !builder.is_empty() {
                    let batch = builder.finish()?;
                    w.write(&batch).map_err(|e| io_error(self.path, e))?;
                }
                w.close().map(drop).map_err(|e| io_error(self.path, e))
            }
            LinesOut::Csv(mut w, _) => w.flush().map_err(|e| io_error(self.path, e)),
        }
    }
}

/// Write one record batch as a whole table file.
pub fn write_table(path: &Path, format: TableFormat, batch: &RecordBatch) -> Result<()> {
    let mut w = TableWriter::create(path, format, batch.schema())?;
    w.write(batch, path)?;
    w.close(path)
}

/// A table of text columns then money columns (decimal128 at `scale`), one
/// row per item of `rows`, for the analysis tables.
fn money_table<T>(
    path: &str,
    text: &[&str],
    money: &[(&str, u32)],
    rows: impl Iterator<Item = T>,
    cells: impl Fn(&T) -> (Vec<&str>, Vec<Decimal>),
) -> Result<RecordBatch> {
    let mut texts: Vec<StringBuilder> = text.iter().map(|_| StringBuilder::new()).collect();
    let mut amounts: Vec<Decimal128Builder> = money
        .iter()
        .map(|(_, scale)| {
            Decimal128Builder::new().with_data_type(DataType::Decimal128(PRECISION, *scale as i8))
        })
        .collect();
    for row in rows {
        let (t, m) = cells(&row);
        for (b, v) in texts.iter_mut().zip(t) {
            b.append_value(v);
        }
        for ((b, v), (name, scale)) in amounts.iter_mut().zip(m).zip(money) {
            b.append_value(units(v, *scale).ok_or_else(|| unscalable(name, v, *scale))?);
        }
    }
    let mut fields: Vec<Field> = text
        .iter()
        .map(|name| Field::new(*name, DataType::Utf8, false))
        .collect();
    fields.extend(money.iter().map(|(name, scale)| {
        Field::new(*name, DataType::Decimal128(PRECISION, *scale as i8), false)
    }));
    let mut columns: Vec<ArrayRef> = texts
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    columns.extend(amounts.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| Error::InvalidTable {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

/// Each member's earnings by source as a table: `member`, `rank`, then
/// `total`, `own`, `team`, `pool`, `member_cap` and `own_sales` as
/// decimal128 at the policy scale, in the batch's input order.
pub fn earnings_batch(e: &fenrun::Earnings<'_>) -> Result<RecordBatch> {
    let s = e.scale();
    let money = [
        ("total", s),
        ("own", s),
        ("team", s),
        ("pool", s),
        ("member_cap", s),
        ("own_sales", s),
    ];
    money_table("earnings", &["member", "rank"], &money, e.iter(), |r| {
        (
            vec![r.member, r.rank],
            vec![r.total, r.own, r.team, r.pool, r.member_cap, r.own_sales],
        )
    })
}

/// The member rows of a comparison as a table: `member`, `rank_a`,
/// `rank_b`, then `total_a` (decimal128 at A's scale), `total_b` (B's) and
/// `delta` (the larger), the largest change first.
pub fn comparison_batch(c: &fenrun::Comparison) -> Result<RecordBatch> {
    let (sa, sb) = (c.a.settlement.scale(), c.b.settlement.scale());
    let money = [("total_a", sa), ("total_b", sb), ("delta", sa.max(sb))];
    let text = ["member", "rank_a", "rank_b"];
    money_table("comparison", &text, &money, c.members.iter(), |m| {
        (
            vec![m.member.as_str(), m.rank_a.as_str(), m.rank_b.as_str()],
            vec![m.total_a, m.total_b, m.delta],
        )
    })
}
