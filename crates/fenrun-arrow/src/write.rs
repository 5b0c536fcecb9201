//! Settlement lines and totals → Arrow record batches, and table writers
//! (Parquet or CSV) that a streaming settlement feeds line by line.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Decimal128Builder, StringBuilder};
use arrow_array::types::ArrowDictionaryKeyType;
use arrow_array::{
    ArrayRef, Decimal128Array, DictionaryArray, ListArray, PrimitiveArray, RecordBatch,
    StringArray, StructArray, UInt16Array, UInt32Array, UInt64Array,
};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use fenrun::{Error, LineView, Result, Settlement};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use rust_decimal::Decimal;

use crate::TableFormat;

/// Rows per record batch (and Parquet row-group flush) when writing lines.
pub const BATCH_ROWS: usize = 64 * 1024;

/// The largest decimal128 precision.
const PRECISION: u8 = 38;

/// The largest precision Parquet stores in 64 bits (`INT64`): a lines file
/// takes it for money whose bound fits ([`fenrun::LineNames::money_fits`]).
const PRECISION_64: u8 = 18;

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

/// The lines schema: ids (`order`, `refund`, `rule`, `kind`, `beneficiary`)
/// dictionary-encoded strings, money (`base`, `amount`) as decimal128 at the policy's
/// scale, `rate` at the policy's [`rate_scale`](fenrun::Policy::rate_scale),
/// `weight` (pool lines) as a shortest-form decimal string, since a weight is
/// any metric value.
pub fn lines_schema(scale: u32, rate_scale: u32, columns: LineColumns) -> SchemaRef {
    lines_schema_at(Precision::WIDE, scale, rate_scale, columns)
}

/// The precisions of a lines table's decimals: money (`base`, `fixed`,
/// `amount`) and `rate`.
#[derive(Debug, Clone, Copy)]
struct Precision {
    money: u8,
    rate: u8,
}

impl Precision {
    /// decimal128(38, …) throughout, what Arrow tables in memory hold.
    const WIDE: Precision = Precision {
        money: PRECISION,
        rate: PRECISION,
    };

    /// For a file: 18 digits (Parquet `INT64`, eight bytes a value, not
    /// sixteen) where the lines' money is bound to fit (rates are at most 1,
    /// so they fit at a scale below 18), else 38.
    fn narrowest(names: &fenrun::LineNames, rate_scale: u32) -> Precision {
        let fits = |digits: u8| names.money_fits(u32::from(digits));
        Precision {
            money: if fits(PRECISION_64) {
                PRECISION_64
            } else {
                PRECISION
            },
            rate: if rate_scale < u32::from(PRECISION_64) {
                PRECISION_64
            } else {
                PRECISION
            },
        }
    }
}

/// [`lines_schema`] with decimals of precision `p`.
fn lines_schema_at(p: Precision, scale: u32, rate_scale: u32, columns: LineColumns) -> SchemaRef {
    let money = DataType::Decimal128(p.money, scale as i8);
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    let ids = |name: &str, key: DataType, nullable| {
        Field::new_dictionary(name, key, DataType::Utf8, nullable)
    };
    let mut fields = vec![
        ids("order", DataType::UInt32, true),
        ids("refund", DataType::UInt32, true),
        // Null on a member-cap line (§12.3), which no rule writes.
        ids("rule", DataType::UInt16, true),
        ids("kind", DataType::UInt16, false),
        ids("beneficiary", DataType::UInt32, false),
        Field::new("level", DataType::UInt32, true),
        Field::new("base", money.clone(), false),
        Field::new("rate", DataType::Decimal128(p.rate, rate_scale as i8), true),
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

fn unscalable(what: &str, d: Decimal, scale: u32) -> Error {
    Error::Overflow {
        path: "lines".to_owned(),
        detail: format!("{what} {d} does not fit decimal128 at scale {scale}"),
    }
}

/// Turns blocks of lines ([`fenrun::LineTable`]) into record batches of
/// the lines schema without a string or a decimal made per line: ids are
/// dictionary-encoded (the keys are the block's member, event and rule
/// indices; the values, every id of the batch, are built once and shared
/// by every batch), money columns are the block's integer units.
pub struct LineArrays {
    schema: SchemaRef,
    names: fenrun::LineNames,
    scale: u32,
    rate_scale: u32,
    columns: LineColumns,
    events: ArrayRef,
    members: ArrayRef,
    rule_ids: ArrayRef,
    kinds: ArrayRef,
    /// Per rule index (the last entry for a member-cap line): its key in `kinds`.
    kind_of: Vec<u16>,
    precision: Precision,
}

/// Keys into a dictionary of ids: an index, or null where the block has
/// [`fenrun::LineTable::NONE`].
fn keys(indices: &[u32]) -> UInt32Array {
    let nulls = NullBuffer::from_iter(indices.iter().map(|&i| i != fenrun::LineTable::NONE));
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    UInt32Array::new(ScalarBuffer::from(indices.to_vec()), nulls)
}

fn dictionary<K: ArrowDictionaryKeyType>(
    keys: PrimitiveArray<K>,
    values: &ArrayRef,
) -> Result<ArrayRef> {
    DictionaryArray::<K>::try_new(keys, Arc::clone(values))
        .map(|d| Arc::new(d) as ArrayRef)
        .map_err(|e| invalid_lines(&e))
}

fn invalid_lines(e: &dyn std::fmt::Display) -> Error {
    Error::InvalidTable {
        path: "lines".to_owned(),
        detail: e.to_string(),
    }
}

impl LineArrays {
    /// A converter for lines whose indices `names` resolves, at the policy's
    /// `scale` and `rate_scale`, with the optional `columns`.
    pub fn new(
        names: &fenrun::LineNames,
        scale: u32,
        rate_scale: u32,
        columns: LineColumns,
    ) -> LineArrays {
        LineArrays::at(Precision::WIDE, names, scale, rate_scale, columns)
    }

    /// [`LineArrays::new`] with decimals of precision `precision`.
    fn at(
        precision: Precision,
        names: &fenrun::LineNames,
        scale: u32,
        rate_scale: u32,
        columns: LineColumns,
    ) -> LineArrays {
        let events = (0..names.event_count()).map(|i| names.event(idx(i)));
        let members = (0..names.member_count()).map(|i| names.member(idx(i)));
        let rules = names.rule_count();
        let rule_keys = (0..rules).map(|r| u16::try_from(r).unwrap_or(fenrun::LineTable::NO_RULE));
        let rule_ids = rule_keys.clone().map(|r| names.rule(r).unwrap_or_default());
        // Distinct kinds, in order of first use (a dictionary's values are
        // unique, as pandas and polars categories must be).
        let mut kinds: Vec<&'static str> = Vec::new();
        let mut kind_of = Vec::with_capacity(rules + 1);
        for r in rule_keys.chain([fenrun::LineTable::NO_RULE]) {
            let kind = names.kind(r);
            let k = kinds.iter().position(|&x| x == kind).unwrap_or_else(|| {
                kinds.push(kind);
                kinds.len() - 1
            });
            kind_of.push(u16::try_from(k).unwrap_or(u16::MAX));
        }
        LineArrays {
            schema: lines_schema_at(precision, scale, rate_scale, columns),
            names: names.clone(),
            scale,
            rate_scale,
            columns,
            events: Arc::new(StringArray::from_iter_values(events)),
            members: Arc::new(StringArray::from_iter_values(members)),
            rule_ids: Arc::new(StringArray::from_iter_values(rule_ids)),
            kinds: Arc::new(StringArray::from_iter_values(kinds)),
            kind_of,
            precision,
        }
    }

    /// The schema of the batches made.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The lines of `t` as one record batch.
    pub fn batch(&self, t: &fenrun::LineTable) -> Result<RecordBatch> {
        let n = t.len();
        let rules = t.rules();
        let member_cap = self.kind_of.len() - 1;
        let rule_keys = UInt16Array::from_iter(
            rules
                .iter()
                .map(|&r| (r != fenrun::LineTable::NO_RULE).then_some(r)),
        );
        let kind_keys = UInt16Array::from_iter_values(rules.iter().map(|&r| {
            let r = if r == fenrun::LineTable::NO_RULE {
                member_cap
            } else {
                usize::from(r)
            };
            self.kind_of.get(r).copied().unwrap_or(0)
        }));
        let money = |units: &[i128]| -> Result<ArrayRef> {
            within(units.iter().copied(), self.precision.money, "money")?;
            Decimal128Array::new(ScalarBuffer::from(units.to_vec()), None)
                .with_precision_and_scale(self.precision.money, self.scale as i8)
                .map(|a| Arc::new(a) as ArrayRef)
                .map_err(|e| invalid_lines(&e))
        };
        let scaled = |values: &mut dyn Iterator<Item = Option<Decimal>>,
                      what: &str,
                      precision: u8,
                      scale: u32|
         -> Result<ArrayRef> {
            let mut b = Decimal128Builder::with_capacity(n)
                .with_data_type(DataType::Decimal128(precision, scale as i8));
            for v in values {
                match v {
                    Some(d) => {
                        let u =
                            fenrun::units_at(d, scale).ok_or_else(|| unscalable(what, d, scale))?;
                        within([u].into_iter(), precision, what)?;
                        b.append_value(u);
                    }
                    None => b.append_null(),
                }
            }
            Ok(Arc::new(b.finish()))
        };
        let levels = t.levels();
        let level_nulls =
            NullBuffer::from_iter(levels.iter().map(|&l| l != fenrun::LineTable::NONE));
        let level_nulls = (level_nulls.null_count() > 0).then_some(level_nulls);
        let mut columns: Vec<ArrayRef> = vec![
            dictionary(keys(t.orders()), &self.events)?,
            dictionary(keys(t.refunds()), &self.events)?,
            dictionary(rule_keys, &self.rule_ids)?,
            dictionary(kind_keys, &self.kinds)?,
            dictionary(keys(t.beneficiaries()), &self.members)?,
            Arc::new(UInt32Array::new(
                ScalarBuffer::from(levels.to_vec()),
                level_nulls,
            )),
            money(t.base_units())?,
            scaled(
                &mut (0..n).map(|i| t.rate(i)),
                "rate",
                self.precision.rate,
                self.rate_scale,
            )?,
        ];
        if self.columns.fixed {
            columns.push(scaled(
                &mut (0..n).map(|i| t.fixed(i)),
                "fixed",
                self.precision.money,
                self.scale,
            )?);
        }
        // Only pool lines have a weight, and they have no order.
        let pools = t.orders().contains(&fenrun::LineTable::NONE);
        columns.push(Arc::new(if pools {
            StringArray::from_iter((0..n).map(|i| t.weight(i).map(fenrun::short_string)))
        } else {
            StringArray::new_null(n)
        }));
        columns.push(money(t.amount_units())?);
        if self.columns.available_at {
            columns.push(Arc::new(StringArray::from_iter(
                (0..n).map(|i| self.names.available_at(t, i).map(|at| at.to_string())),
            )));
        }
        RecordBatch::try_new(self.schema.clone(), columns).map_err(|e| invalid_lines(&e))
    }
}

/// `Ok` when every one of `units` has at most `precision` digits. The bound
/// behind a narrow precision ([`fenrun::LineNames::money_fits`], rates at
/// most 1) is checked, not trusted: Parquet would keep the low 64 bits of a
/// wider value.
fn within(mut units: impl Iterator<Item = i128>, precision: u8, what: &str) -> Result<()> {
    if precision >= PRECISION {
        return Ok(());
    }
    let limit = 10i128.pow(u32::from(precision));
    if units.any(|u| u.abs() >= limit) {
        return Err(Error::Internal {
            path: "lines".to_owned(),
            detail: format!("{what} beyond the bound of {precision} digits"),
        });
    }
    Ok(())
}

/// A member or event index (the core's ids are counted in `u32`).
fn idx(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Every line of a settlement as one record batch, with the optional `columns`.
pub fn lines_batch(s: &Settlement, rate_scale: u32, columns: LineColumns) -> Result<RecordBatch> {
    LineArrays::new(s.names(), s.scale(), rate_scale, columns).batch(s.line_table())
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
            b.append_value(
                fenrun::units_at(v, scale).ok_or_else(|| unscalable("total", v, scale))?,
            );
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

/// The rank-changes schema: `member`, `from`, `to`, `because`, the §9
/// list of leaves that made the new rank's condition hold, as a list of
/// structs (Python sees lists of dicts), and `after`, the event after which
/// the change happened in `immediate` rank timing (null otherwise, §13).
pub fn rank_changes_schema() -> SchemaRef {
    let text = |name: &str| Field::new(name, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        text("member"),
        text("from"),
        text("to"),
        Field::new("because", DataType::List(because_item()), false),
        Field::new("after", DataType::Utf8, true),
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
    let after: StringArray = changes.iter().map(|c| c.after.as_deref()).collect();
    columns.push(Arc::new(after));
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
        TableWriter::create_with(path, format, schema, WriterProperties::builder())
    }

    /// [`TableWriter::create`] with Parquet properties `props` (snappy is set on them).
    pub fn create_with(
        path: &Path,
        format: TableFormat,
        schema: SchemaRef,
        props: parquet::file::properties::WriterPropertiesBuilder,
    ) -> Result<TableWriter> {
        let file = File::create(path).map_err(|e| io_error(path, e))?;
        Ok(match format {
            TableFormat::Parquet => {
                let props = props.set_compression(Compression::SNAPPY).build();
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
    Parquet(ArrowWriter<File>, Box<LineArrays>),
    Csv(csv::Writer<BufWriter<File>>, String, fenrun::LineNames),
}

/// The Parquet writer properties of a lines file of `schema` (snappy is
/// set on them when the file is made).
pub fn lines_properties(schema: &Schema) -> parquet::file::properties::WriterPropertiesBuilder {
    // Lines come in order of the orders: the min and max of an id column
    // over a page or row group would select nothing, and cost two string
    // comparisons a value to keep. Numbers keep their statistics.
    let mut props = WriterProperties::builder();
    for id in ["order", "refund", "rule", "kind", "beneficiary"] {
        props = props.set_column_statistics_enabled(id.into(), EnabledStatistics::None);
    }
    // Bases, amounts and order ids are nearly all distinct within a row
    // group: a dictionary would hold every value once more, and costs a
    // hash a value to build. Beneficiaries repeat, but a row group of a
    // large batch pays hundreds of thousands of members: their dictionary
    // outgrows its page after the first few pages and the rest is written
    // plain anyway, each value hashed for nothing (rules and kinds keep theirs).
    for plain in ["base", "amount", "order", "refund", "beneficiary"] {
        props = props.set_column_dictionary_enabled(plain.into(), false);
    }
    // Money held in 64 bits (Parquet `INT64`, up to 18 digits) is small
    // integers of units: bit-packed differences take fewer bytes than plain
    // values and leave less for the compression to do. (Wider money is
    // fixed-length bytes, which this encoding does not take.)
    for field in schema.fields() {
        let money = matches!(field.name().as_str(), "base" | "amount" | "fixed");
        if money && matches!(field.data_type(), DataType::Decimal128(p, _) if *p <= PRECISION_64) {
            props = props
                .set_column_encoding(field.name().as_str().into(), Encoding::DELTA_BINARY_PACKED);
        }
    }
    props
}

/// A sink of blocks of lines writing to a table file: Parquet, one record
/// batch per block, or CSV row by row. Lines never sit in memory beyond a block.
pub struct LinesFile<'p> {
    path: &'p Path,
    scale: u32,
    columns: LineColumns,
    out: LinesOut,
}

impl<'p> LinesFile<'p> {
    /// Create `path` for the lines whose indices `names` resolves, of a
    /// policy with this `scale` and `rate_scale`, with the optional `columns`.
    pub fn create(
        path: &'p Path,
        format: TableFormat,
        names: &fenrun::LineNames,
        scale: u32,
        rate_scale: u32,
        columns: LineColumns,
    ) -> Result<LinesFile<'p>> {
        let precision = Precision::narrowest(names, rate_scale);
        let schema = lines_schema_at(precision, scale, rate_scale, columns);
        let props = lines_properties(&schema);
        let out = match TableWriter::create_with(path, format, schema, props)? {
            TableWriter::Parquet(w) => LinesOut::Parquet(
                w,
                Box::new(LineArrays::at(precision, names, scale, rate_scale, columns)),
            ),
            TableWriter::Csv(w) => LinesOut::Csv(w, String::new(), names.clone()),
        };
        Ok(LinesFile {
            path,
            scale,
            columns,
            out,
        })
    }

    /// Write one block of lines.
    pub fn write(&mut self, block: &fenrun::LineTable) -> Result<()> {
        match &mut self.out {
            LinesOut::Parquet(w, arrays) => {
                let batch = arrays.batch(block)?;
                w.write(&batch).map_err(|e| io_error(self.path, e))
            }
            LinesOut::Csv(w, buf, names) => {
                for i in 0..block.len() {
                    let Some(l) = names.view(block, i) else {
                        continue;
                    };
                    write_csv_line(w, buf, &l, self.scale, self.columns)
                        .map_err(|e| io_error(self.path, e))?;
                }
                Ok(())
            }
        }
    }

    /// Close the file.
    pub fn close(self) -> Result<()> {
        match self.out {
            LinesOut::Parquet(w, _) => w.close().map(drop).map_err(|e| io_error(self.path, e)),
            LinesOut::Csv(mut w, _, _) => w.flush().map_err(|e| io_error(self.path, e)),
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
            b.append_value(fenrun::units_at(v, *scale).ok_or_else(|| unscalable(name, v, *scale))?);
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
