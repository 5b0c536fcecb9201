//! Arrow record batches → fenrun records. Every column is checked against the
//! kind of its field before a row is read; money is never read from a float
//! unless the caller opts in with [`ReadOptions::round_float_money`].

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Float64Type, Int64Type};
use arrow_array::{
    new_null_array, Array, ArrayRef, BooleanArray, Decimal128Array, Float64Array, Int64Array,
    LargeStringArray, RecordBatch, StringArray,
};
use arrow_cast::cast::{cast_with_options, CastOptions};
use arrow_schema::DataType;
use arrow_select::concat::concat;
use fenrun::input::{parse_decimal, EventRecord, GroupRecord, MemberRecord};
use fenrun::{Error, Result, Rounding};
use rust_decimal::Decimal;

/// How tables are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// `None` (the default): a floating-point money column is refused with
    /// `float_number`. `Some(rounding)`: the caller accepts floats, and each
    /// value is read as the shortest decimal that round-trips to the same
    /// float (`0.1 + 0.2` reads as `0.30000000000000004`), then rounded with
    /// `rounding` (the policy's scale and mode: `0.30`). NaN and infinities
    /// are refused with `invalid_decimal`.
    pub round_float_money: Option<Rounding>,
}

impl ReadOptions {
    /// Accept float money columns, rounded to `policy`'s scale with its mode.
    pub fn round_floats_for(policy: &fenrun::Policy) -> ReadOptions {
        ReadOptions {
            round_float_money: Some(policy.rounding()),
        }
    }
}

/// What a column holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Ids and other strings: string columns of any layout, dictionaries of
    /// strings, and integer columns (written in decimal).
    Text,
    /// Decimal128/32/64/256 (exact), strings in the strict decimal form, integers.
    Money,
    /// Booleans, or the strings `true` / `false`.
    Bool,
    /// Integers, or strings of digits.
    Int,
}

/// A column, normalized to one array type per kind.
enum Col {
    Str(StringArray),
    Dec(Decimal128Array, u32),
    Bool(BooleanArray),
    Int(Int64Array),
    /// Floats the caller accepted, with the rounding to apply.
    Float(Float64Array, Rounding),
}

/// A table's columns, with the table's name for paths. Fields are addressed
/// by their position in the table's field list (no name lookup per cell).
struct Table<'a> {
    name: &'a str,
    /// Row number of this record batch's first row within the table.
    offset: usize,
    fields: &'static [FieldSpec],
    /// The column of each field, in field order.
    fixed: Vec<Option<Col>>,
    /// `attrs.<name>` columns (members only).
    attrs: Vec<(String, Col)>,
}

/// One field of a record: its column name, kind and whether it must be there.
struct FieldSpec {
    name: &'static str,
    kind: Kind,
    required: bool,
}

const fn field(name: &'static str, kind: Kind, required: bool) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        required,
    }
}

// Field positions in the lists below.
const ID: usize = 0;
const M_SPONSOR: usize = 1;
const M_RANK: usize = 2;
const M_ACTIVE: usize = 3;
const G_OWNER: usize = 1;
const G_SIZE: usize = 2;
// Orders and refunds share `id`; the other fields are looked up by name once per batch.

const MEMBER_FIELDS: &[FieldSpec] = &[
    field("id", Kind::Text, true),
    field("sponsor", Kind::Text, false),
    field("rank", Kind::Text, false),
    field("active", Kind::Bool, false),
];
/// Member columns named `attrs.<name>` are attributes (money kind).
pub const ATTR_PREFIX: &str = "attrs.";
const GROUP_FIELDS: &[FieldSpec] = &[
    field("id", Kind::Text, true),
    field("owner", Kind::Text, true),
    field("size", Kind::Int, true),
];
const ORDER_FIELDS: &[FieldSpec] = &[
    field("id", Kind::Text, true),
    field("seller", Kind::Text, false),
    field("buyer", Kind::Text, false),
    field("amount", Kind::Money, true),
    field("at", Kind::Text, false),
    field("refund_of", Kind::Text, false),
    field("category", Kind::Text, false),
    field("quantity", Kind::Int, false),
];
const REFUND_FIELDS: &[FieldSpec] = &[
    field("id", Kind::Text, true),
    field("refund_of", Kind::Text, true),
    field("amount", Kind::Money, true),
    field("at", Kind::Text, false),
];

fn invalid_type(path: String, dt: &DataType, kind: Kind) -> Error {
    let want = match kind {
        Kind::Text => "a string (or integer) column",
        Kind::Money => "a decimal128 or string column (or integers)",
        Kind::Bool => "a boolean column (or the strings true/false)",
        Kind::Int => "an integer column",
    };
    Error::InvalidType {
        path,
        detail: format!("the column is {dt}; expected {want}"),
    }
}

fn strict_cast(array: &ArrayRef, to: &DataType, path: &str) -> Result<ArrayRef> {
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    cast_with_options(array, to, &options).map_err(|e| Error::InvalidTable {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

fn is_stringy(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_stringy(v),
        _ => false,
    }
}

/// Bring a column to the one array type its kind is read from.
fn normalize(array: &ArrayRef, kind: Kind, path: String, opts: &ReadOptions) -> Result<Col> {
    let dt = array.data_type();
    let as_str = |a: &ArrayRef| -> Result<Col> {
        Ok(Col::Str(
            strict_cast(a, &DataType::Utf8, &path)?
                .as_string::<i32>()
                .clone(),
        ))
    };
    match kind {
        Kind::Text if is_stringy(dt) || dt.is_integer() => as_str(array),
        Kind::Money | Kind::Int | Kind::Bool if is_stringy(dt) => as_str(array),
        Kind::Money if dt.is_floating() => match opts.round_float_money {
            Some(rounding) => {
                let a = strict_cast(array, &DataType::Float64, &path)?;
                Ok(Col::Float(
                    a.as_primitive::<Float64Type>().clone(),
                    rounding,
                ))
            }
            None => Err(Error::FloatNumber {
                path,
                detail: format!(
                    "a {dt} column: money is never read from binary floating point \
                     (pandas' and DuckDB's read_csv give float64 amounts). Cast the column to \
                     a decimal (SQL `CAST(amount AS DECIMAL(18, 2))`, pyarrow \
                     `pa.decimal128(18, 2)`) or to decimal strings, or, from Python, pass \
                     `round_float_money=True` to round each float to the policy scale"
                ),
            }),
        },
        Kind::Money if dt.is_integer() => {
            let a = strict_cast(array, &DataType::Decimal128(38, 0), &path)?;
            Ok(Col::Dec(a.as_primitive::<Decimal128Type>().clone(), 0))
        }
        Kind::Money => match dt {
            // Any precision holds its values as i128: no copy.
            DataType::Decimal128(_, s) if *s >= 0 => Ok(Col::Dec(
                array.as_primitive::<Decimal128Type>().clone(),
                u32::try_from(*s).unwrap_or(0),
            )),
            DataType::Decimal32(_, s)
            | DataType::Decimal64(_, s)
            | DataType::Decimal128(_, s)
            | DataType::Decimal256(_, s) => {
                let scale = u32::try_from(*s).unwrap_or(0);
                let a = strict_cast(array, &DataType::Decimal128(38, scale as i8), &path)?;
                Ok(Col::Dec(a.as_primitive::<Decimal128Type>().clone(), scale))
            }
            _ => Err(invalid_type(path, dt, kind)),
        },
        Kind::Int if dt.is_integer() => {
            let a = strict_cast(array, &DataType::Int64, &path)?;
            Ok(Col::Int(a.as_primitive::<Int64Type>().clone()))
        }
        Kind::Bool if *dt == DataType::Boolean => Ok(Col::Bool(array.as_boolean().clone())),
        _ => Err(invalid_type(path, dt, kind)),
    }
}

impl<'a> Table<'a> {
    /// Check the columns of `batch` against `fields` (plus `attrs.*` when
    /// `attrs` is set) and normalize them.
    fn new(
        name: &'a str,
        offset: usize,
        batch: &RecordBatch,
        fields: &'static [FieldSpec],
        attrs: bool,
        opts: &ReadOptions,
    ) -> Result<Table<'a>> {
        let schema = batch.schema();
        let mut fixed: Vec<Option<Col>> = fields.iter().map(|_| None).collect();
        let mut attr_cols: Vec<(String, Col)> = Vec::new();
        let twice = |col: &str| Error::InvalidTable {
            path: format!("{name}.{col}"),
            detail: "the column appears twice".to_owned(),
        };
        for (f, array) in schema.fields().iter().zip(batch.columns()) {
            let col = f.name();
            let path = format!("{name}.{col}");
            match fields.iter().position(|s| s.name == col.as_str()) {
                Some(i) => {
                    let slot = fixed.get_mut(i).ok_or_else(|| twice(col))?;
                    if slot.is_some() {
                        return Err(twice(col));
                    }
                    let kind = fields.get(i).map_or(Kind::Text, |s| s.kind);
                    *slot = Some(normalize(array, kind, path, opts)?);
                }
                None if attrs && col.len() > ATTR_PREFIX.len() && col.starts_with(ATTR_PREFIX) => {
                    if attr_cols.iter().any(|(c, _)| c == col) {
                        return Err(twice(col));
                    }
                    attr_cols.push((col.clone(), normalize(array, Kind::Money, path, opts)?));
                }
                None => {
                    return Err(Error::UnknownField {
                        path: name.to_owned(),
                        field: col.clone(),
                    })
                }
            }
        }
        if let Some((missing, _)) = fields
            .iter()
            .zip(&fixed)
            .find(|(s, c)| s.required && c.is_none())
        {
            return Err(Error::MissingField {
                path: name.to_owned(),
                field: missing.name.to_owned(),
            });
        }
        Ok(Table {
            name,
            offset,
            fields,
            fixed,
            attrs: attr_cols,
        })
    }

    fn col(&self, f: usize) -> Option<&Col> {
        self.fixed.get(f).and_then(Option::as_ref)
    }

    fn field_name(&self, f: usize) -> &'static str {
        self.fields.get(f).map_or("?", |s| s.name)
    }

    fn path(&self, row: usize, f: usize) -> String {
        format!(
            "{}[{}].{}",
            self.name,
            self.offset + row,
            self.field_name(f)
        )
    }

    fn missing(&self, row: usize, f: usize) -> Error {
        Error::MissingField {
            path: format!("{}[{}]", self.name, self.offset + row),
            field: self.field_name(f).to_owned(),
        }
    }

    fn text(&self, row: usize, f: usize) -> Result<Option<String>> {
        match self.col(f) {
            None => Ok(None),
            Some(Col::Str(a)) => Ok(a.is_valid(row).then(|| a.value(row).to_owned())),
            Some(_) => Err(self.internal(f)),
        }
    }

    fn required_text(&self, row: usize, f: usize) -> Result<String> {
        self.text(row, f)?.ok_or_else(|| self.missing(row, f))
    }

    fn money(&self, row: usize, f: usize) -> Result<Option<Decimal>> {
        money_cell(self.col(f), row, || self.path(row, f))
    }

    fn is_valid(&self, row: usize, f: usize) -> bool {
        self.col(f).is_some_and(|c| c.is_valid(row))
    }

    /// A column normalized to another kind than its field's: a bug of this crate.
    fn internal(&self, f: usize) -> Error {
        Error::InvalidTable {
            path: format!("{}.{}", self.name, self.field_name(f)),
            detail: "internal: column read as the wrong kind".to_owned(),
        }
    }
}

impl Col {
    fn is_valid(&self, row: usize) -> bool {
        match self {
            Col::Str(a) => a.is_valid(row),
            Col::Dec(a, _) => a.is_valid(row),
            Col::Bool(a) => a.is_valid(row),
            Col::Int(a) => a.is_valid(row),
            Col::Float(a, _) => a.is_valid(row),
        }
    }
}

/// A money cell: exact from decimal128, strict from a string.
fn money_cell(col: Option<&Col>, row: usize, path: impl Fn() -> String) -> Result<Option<Decimal>> {
    match col {
        None => Ok(None),
        Some(c) if !c.is_valid(row) => Ok(None),
        Some(Col::Str(a)) => parse_decimal(a.value(row), &path()).map(Some),
        Some(Col::Dec(a, scale)) => exact(a.value(row), *scale, path).map(Some),
        Some(Col::Float(a, rounding)) => float_money(a.value(row), *rounding, &path()).map(Some),
        Some(_) => Err(Error::InvalidTable {
            path: path(),
            detail: "internal: column read as the wrong kind".to_owned(),
        }),
    }
}

/// A decimal128 value at `scale`, within the exact decimal range.
fn exact(value: i128, scale: u32, path: impl Fn() -> String) -> Result<Decimal> {
    Decimal::try_from_i128_with_scale(value, scale).map_err(|_| Error::InvalidDecimal {
        path: path(),
        detail: format!(
            "{value} at scale {scale} is outside the exact decimal range (28 significant digits)"
        ),
    })
}

/// A float the caller accepted as money: its shortest round-trip decimal
/// form, rounded to the policy's scale.
fn float_money(value: f64, rounding: Rounding, path: &str) -> Result<Decimal> {
    if !value.is_finite() {
        return Err(Error::InvalidDecimal {
            path: path.to_owned(),
            detail: format!("{value} is not a number"),
        });
    }
    // Rust's `Display` of an f64 is the shortest string that reads back as
    // the same float, without an exponent.
    let text = value.to_string();
    let exact = Decimal::from_str_exact(&text)
        .or_else(|_| {
            // More digits than a decimal holds: let the parser round the tail.
            text.parse::<Decimal>()
        })
        .map_err(|_| Error::InvalidDecimal {
            path: path.to_owned(),
            detail: format!("{text} is outside the exact decimal range (28 significant digits)"),
        })?;
    Ok(rounding.round(exact))
}

impl Table<'_> {
    fn bool(&self, row: usize, f: usize) -> Result<Option<bool>> {
        match self.col(f) {
            None => Ok(None),
            Some(_) if !self.is_valid(row, f) => Ok(None),
            Some(Col::Bool(a)) => Ok(Some(a.value(row))),
            Some(Col::Str(a)) => match a.value(row) {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                other => Err(Error::InvalidType {
                    path: self.path(row, f),
                    detail: format!("\"{other}\" is not a boolean (true or false)"),
                }),
            },
            Some(_) => Err(self.internal(f)),
        }
    }

    /// A quantity cell (§12.5): an integer from 0 (the core refuses 0, naming the
    /// event) to 2^32 - 1.
    fn quantity(&self, row: usize, f: usize) -> Result<Option<u32>> {
        match self.int(row, f)? {
            None => Ok(None),
            Some(q) => u32::try_from(q).map(Some).map_err(|_| Error::InvalidValue {
                path: self.path(row, f),
                detail: format!("quantity {q} is not a whole number of units from 1"),
            }),
        }
    }

    fn int(&self, row: usize, f: usize) -> Result<Option<i64>> {
        match self.col(f) {
            None => Ok(None),
            Some(_) if !self.is_valid(row, f) => Ok(None),
            Some(Col::Int(a)) => Ok(Some(a.value(row))),
            Some(Col::Str(a)) => {
                let text = a.value(row);
                let digits = text.strip_prefix('-').unwrap_or(text);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Error::InvalidType {
                        path: self.path(row, f),
                        detail: format!("\"{text}\" is not an integer"),
                    });
                }
                text.parse().map(Some).map_err(|_| Error::InvalidValue {
                    path: self.path(row, f),
                    detail: format!("{text} is out of range"),
                })
            }
            Some(_) => Err(self.internal(f)),
        }
    }
}

/// Read the `members` table: `id`, `sponsor`, `rank`, `active`, and
/// `attrs.<name>` columns for attributes (a null cell is an absent attribute).
pub fn members(
    batches: &[RecordBatch],
    name: &str,
    opts: &ReadOptions,
) -> Result<Vec<MemberRecord>> {
    let mut out = Vec::with_capacity(rows(batches));
    for_each_batch(batches, name, MEMBER_FIELDS, true, opts, |t, row| {
        let mut attrs = BTreeMap::new();
        for (col, c) in &t.attrs {
            let path = || format!("{}[{}].{col}", t.name, t.offset + row);
            if let Some(v) = money_cell(Some(c), row, path)? {
                attrs.insert(
                    col.get(ATTR_PREFIX.len()..).unwrap_or_default().to_owned(),
                    v,
                );
            }
        }
        out.push(MemberRecord {
            id: t.required_text(row, ID)?.into(),
            sponsor: t.text(row, M_SPONSOR)?.map(Into::into),
            rank: t.text(row, M_RANK)?.map(Into::into),
            active: t.bool(row, M_ACTIVE)?,
            attrs,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Read the `groups` table: `id`, `owner`, `size`.
pub fn groups(batches: &[RecordBatch], name: &str, opts: &ReadOptions) -> Result<Vec<GroupRecord>> {
    let mut out = Vec::with_capacity(rows(batches));
    for_each_batch(batches, name, GROUP_FIELDS, false, opts, |t, row| {
        out.push(GroupRecord {
            id: t.required_text(row, ID)?.into(),
            owner: t.required_text(row, G_OWNER)?.into(),
            size: t.int(row, G_SIZE)?.ok_or_else(|| t.missing(row, G_SIZE))?,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Read the `orders` table: `id`, `seller`, `buyer`, `amount`, `at`, and an
/// optional `refund_of` (a row with it is a refund, as in the JSON `events`).
pub fn orders(batches: &[RecordBatch], name: &str, opts: &ReadOptions) -> Result<Vec<EventRecord>> {
    events(batches, name, ORDER_FIELDS, opts)
}

/// Read a `refunds` table: `id`, `refund_of`, `amount`, `at`.
pub fn refunds(
    batches: &[RecordBatch],
    name: &str,
    opts: &ReadOptions,
) -> Result<Vec<EventRecord>> {
    events(batches, name, REFUND_FIELDS, opts)
}

fn events(
    batches: &[RecordBatch],
    name: &str,
    fields: &'static [FieldSpec],
    opts: &ReadOptions,
) -> Result<Vec<EventRecord>> {
    let at = |n: &str| {
        fields
            .iter()
            .position(|s| s.name == n)
            .unwrap_or(usize::MAX)
    };
    let (seller, buyer, amount, when, refund_of, category) = (
        at("seller"),
        at("buyer"),
        at("amount"),
        at("at"),
        at("refund_of"),
        at("category"),
    );
    let quantity = at("quantity");
    let mut out = Vec::with_capacity(rows(batches));
    for_each_batch(batches, name, fields, false, opts, |t, row| {
        out.push(EventRecord {
            id: t.required_text(row, ID)?.into(),
            seller: t.text(row, seller)?.map(Into::into),
            buyer: t.text(row, buyer)?,
            amount: t
                .money(row, amount)?
                .ok_or_else(|| t.missing(row, amount))?,
            at: t.text(row, when)?,
            refund_of: t.text(row, refund_of)?.map(Into::into),
            category: t.text(row, category)?,
            quantity: t.quantity(row, quantity)?,
        });
        Ok(())
    })?;
    Ok(out)
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn for_each_batch(
    batches: &[RecordBatch],
    name: &str,
    fields: &'static [FieldSpec],
    attrs: bool,
    opts: &ReadOptions,
    mut row: impl FnMut(&Table<'_>, usize) -> Result<()>,
) -> Result<()> {
    let mut offset = 0;
    for batch in batches {
        let table = Table::new(name, offset, batch, fields, attrs, opts)?;
        for r in 0..batch.num_rows() {
            row(&table, r)?;
        }
        offset += batch.num_rows();
    }
    Ok(())
}

/// A string column of a whole table, its record batches end to end.
#[derive(Debug)]
enum Text {
    /// The tables have no such column.
    Absent,
    Small(StringArray),
    /// More than 2 GiB of text: 64-bit offsets.
    Large(LargeStringArray),
}

impl Text {
    /// Bytes of text the column's rows span.
    fn bytes(&self) -> usize {
        fn span<O: arrow_array::OffsetSizeTrait>(offsets: &[O]) -> usize {
            match (offsets.first(), offsets.last()) {
                (Some(first), Some(last)) => (last.as_usize()).saturating_sub(first.as_usize()),
                _ => 0,
            }
        }
        match self {
            Text::Absent => 0,
            Text::Small(a) => span(a.value_offsets()),
            Text::Large(a) => span(a.value_offsets()),
        }
    }

    /// Record batches' columns (a null array where a batch lacks the column)
    /// concatenated into one.
    fn concat(parts: &[ArrayRef], name: &str) -> Result<Text> {
        Text::concat_within(parts, name, i32::MAX as usize)
    }

    /// [`Text::concat`], with 64-bit offsets past `small` bytes of text.
    fn concat_within(parts: &[ArrayRef], name: &str, small: usize) -> Result<Text> {
        if parts.iter().all(|a| a.null_count() == a.len()) {
            return Ok(Text::Absent);
        }
        let bytes: usize = parts
            .iter()
            .map(|a| a.as_string_opt::<i32>().map_or(0, |s| s.values().len()))
            .sum();
        let wrong = || table_error(name, "internal: a text column is not a string array");
        if bytes <= small {
            if let [one] = parts {
                return one
                    .as_string_opt()
                    .cloned()
                    .map(Text::Small)
                    .ok_or_else(wrong);
            }
            let refs: Vec<&dyn Array> = parts.iter().map(AsRef::as_ref).collect();
            let joined = concat(&refs).map_err(|e| table_error(name, e))?;
            return joined
                .as_string_opt()
                .cloned()
                .map(Text::Small)
                .ok_or_else(wrong);
        }
        let large = parts
            .iter()
            .map(|a| strict_cast(a, &DataType::LargeUtf8, name))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&dyn Array> = large.iter().map(AsRef::as_ref).collect();
        let joined = concat(&refs).map_err(|e| table_error(name, e))?;
        joined
            .as_string_opt()
            .cloned()
            .map(Text::Large)
            .ok_or_else(wrong)
    }

    #[inline]
    fn get(&self, i: usize) -> Option<&str> {
        match self {
            Text::Absent => None,
            Text::Small(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            Text::Large(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
        }
    }
}

fn table_error(name: &str, e: impl std::fmt::Display) -> Error {
    Error::InvalidTable {
        path: name.to_owned(),
        detail: e.to_string(),
    }
}

/// Orders, then refunds, by column, for [`fenrun::Batch::from_columns`]: ids
/// and names stay in Arrow string buffers, one per column (no `String` per
/// cell), and amounts are read exactly, once. Row `i` is the core's
/// `events[i]`: the orders table's rows, then the refunds table's.
///
/// Columns are checked as for [`orders`] and [`refunds`]; a missing or
/// unreadable amount is reported here, naming the table and row.
#[derive(Debug)]
pub struct EventTable {
    id: Text,
    seller: Text,
    buyer: Text,
    at: Text,
    refund_of: Text,
    category: Text,
    amount: Amounts,
    /// Each row's quantity, when the orders table has the column (else empty).
    quantity: Vec<Option<u32>>,
    rows: usize,
    orders: usize,
}

/// The amounts of an [`EventTable`].
#[derive(Debug)]
enum Amounts {
    /// One decimal128 column with no nulls, read cell by cell.
    Column(Decimal128Array, u32),
    /// Read once from columns of other kinds, or from several.
    Values(Vec<Decimal>),
}

impl EventTable {
    /// Check and gather the orders and refunds tables' columns.
    pub fn new(
        orders: &[RecordBatch],
        refunds: &[RecordBatch],
        opts: &ReadOptions,
    ) -> Result<EventTable> {
        EventTable::new_at(orders, refunds, opts, [0, 0])
    }

    /// [`EventTable::new`] for a chunk of the tables whose first rows are rows
    /// `first[0]` of the orders table and `first[1]` of the refunds table
    /// (errors name those rows).
    pub fn new_at(
        orders: &[RecordBatch],
        refunds: &[RecordBatch],
        opts: &ReadOptions,
        first: [usize; 2],
    ) -> Result<EventTable> {
        const NAMES: [&str; 6] = ["id", "seller", "buyer", "at", "refund_of", "category"];
        let mut text: [Vec<ArrayRef>; 6] = Default::default();
        let mut amount = Vec::new();
        let mut quantity: Vec<Option<u32>> = Vec::new();
        let mut column = None;
        for (name, batches, fields, mut offset) in [
            ("orders", orders, ORDER_FIELDS, first[0]),
            ("refunds", refunds, REFUND_FIELDS, first[1]),
        ] {
            let pos = |n: &str| fields.iter().position(|s| s.name == n);
            let money = pos("amount").unwrap_or(usize::MAX);
            for batch in batches {
                let t = Table::new(name, offset, batch, fields, false, opts)?;
                let len = batch.num_rows();
                for (parts, field) in text.iter_mut().zip(NAMES) {
                    parts.push(match pos(field).and_then(|f| t.col(f)) {
                        Some(Col::Str(a)) => Arc::new(a.clone()),
                        Some(_) => return Err(t.internal(pos(field).unwrap_or(0))),
                        None => new_null_array(&DataType::Utf8, len),
                    });
                }
                if let Some(q) = pos("quantity").filter(|&q| t.col(q).is_some()) {
                    // Rows before this batch's had none.
                    quantity.resize(offset - first[0], None);
                    for row in 0..len {
                        quantity.push(t.quantity(row, q)?);
                    }
                }
                match t.col(money) {
                    Some(Col::Dec(a, scale))
                        if a.null_count() == 0 && orders.len() + refunds.len() == 1 =>
                    {
                        column = Some(Amounts::Column(a.clone(), *scale));
                    }
                    _ => {
                        amount.reserve(len);
                        for row in 0..len {
                            amount.push(t.money(row, money)?.ok_or_else(|| t.missing(row, money))?);
                        }
                    }
                }
                offset += len;
            }
        }
        let [id, seller, buyer, at, refund_of, category] = text;
        Ok(EventTable {
            id: Text::concat(&id, "orders.id")?,
            seller: Text::concat(&seller, "orders.seller")?,
            buyer: Text::concat(&buyer, "orders.buyer")?,
            at: Text::concat(&at, "orders.at")?,
            refund_of: Text::concat(&refund_of, "orders.refund_of")?,
            category: Text::concat(&category, "orders.category")?,
            amount: column.unwrap_or(Amounts::Values(amount)),
            quantity,
            rows: rows(orders) + rows(refunds),
            orders: rows(orders),
        })
    }

    /// How many rows came from the orders table.
    pub fn orders(&self) -> usize {
        self.orders
    }
}

/// Event `i` has no `field` (the core's path, renamed to the table's by the caller).
fn missing_cell(i: usize, field: &str) -> Error {
    Error::MissingField {
        path: format!("events[{i}]"),
        field: field.to_owned(),
    }
}

impl fenrun::input::EventColumns for EventTable {
    fn len(&self) -> usize {
        self.rows
    }
    fn id_bytes(&self) -> Option<usize> {
        Some(self.id.bytes())
    }
    fn id(&self, i: usize) -> Result<&str> {
        self.id.get(i).ok_or_else(|| missing_cell(i, "id"))
    }
    fn id_if_any(&self, i: usize) -> Option<&str> {
        self.id.get(i)
    }
    fn seller(&self, i: usize) -> Option<&str> {
        self.seller.get(i)
    }
    fn buyer(&self, i: usize) -> Option<&str> {
        self.buyer.get(i)
    }
    fn amount(&self, i: usize) -> Result<Decimal> {
        let cell = match &self.amount {
            Amounts::Column(a, scale) if i < a.len() => {
                Some(exact(a.value(i), *scale, || format!("events[{i}].amount"))?)
            }
            Amounts::Column(..) => None,
            Amounts::Values(v) => v.get(i).copied(),
        };
        cell.ok_or_else(|| missing_cell(i, "amount"))
    }
    fn amount_units(&self, i: usize, scale: u32) -> Option<i64> {
        match &self.amount {
            // Never for a null cell: the column has none.
            Amounts::Column(a, column_scale) if i < a.len() => {
                let up = scale.checked_sub(*column_scale)?;
                let units = a.value(i).checked_mul(10i128.checked_pow(up)?)?;
                i64::try_from(units).ok()
            }
            _ => None,
        }
    }
    fn at(&self, i: usize) -> Option<&str> {
        self.at.get(i)
    }
    fn refund_of(&self, i: usize) -> Option<&str> {
        self.refund_of.get(i)
    }
    fn category(&self, i: usize) -> Option<&str> {
        self.category.get(i)
    }
    fn quantity(&self, i: usize) -> Option<u32> {
        self.quantity.get(i).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{new_null_array, ArrayRef, StringArray};
    use arrow_schema::DataType;

    use super::{EventTable, Text};

    /// Units told from a decimal column are the amount's, at the policy's
    /// scale or above the column's; a value that does not fit 64 bits, or a
    /// scale below the column's, is left to the decimal path.
    #[test]
    fn amount_units_are_the_amounts_at_the_scale() {
        use arrow_array::{Decimal128Array, RecordBatch};
        use fenrun::input::EventColumns;
        let values = [1999, -5, 0, i128::from(i64::MAX), i128::from(i64::MAX) + 1];
        let amounts = Decimal128Array::from(values.to_vec())
            .with_precision_and_scale(38, 2)
            .unwrap();
        let ids: Vec<String> = (0..values.len()).map(|i| format!("o{i}")).collect();
        let batch = RecordBatch::try_from_iter([
            ("id", Arc::new(StringArray::from(ids)) as ArrayRef),
            (
                "seller",
                Arc::new(StringArray::from(vec!["m1"; 5])) as ArrayRef,
            ),
            ("amount", Arc::new(amounts) as ArrayRef),
        ])
        .unwrap();
        let table = EventTable::new(&[batch], &[], &super::ReadOptions::default()).unwrap();
        let at = |scale| {
            (0..6)
                .map(|i| table.amount_units(i, scale))
                .collect::<Vec<_>>()
        };
        // 19.99 is 1999 hundredths, 19990 thousandths; i64::MAX hundredths fit
        // at 2 decimals only; one more does not fit at all.
        let max = i64::MAX;
        assert_eq!(
            at(2),
            [Some(1999), Some(-5), Some(0), Some(max), None, None]
        );
        assert_eq!(at(3), [Some(19990), Some(-50), Some(0), None, None, None]);
        assert_eq!(at(1), [None; 6]);
        assert_eq!(table.amount(0).unwrap().to_string(), "19.99");
    }

    #[test]
    fn text_columns_join_with_nulls_and_past_the_small_offsets() {
        let parts: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![Some("o1"), None])),
            new_null_array(&DataType::Utf8, 1),
            Arc::new(StringArray::from(vec![Some("o22")])),
        ];
        fn rows(t: &Text) -> Vec<Option<&str>> {
            (0..5).map(|i| t.get(i)).collect()
        }
        let want = vec![Some("o1"), None, None, Some("o22"), None];
        let small = Text::concat(&parts, "orders.id").unwrap();
        assert!(matches!(small, Text::Small(_)));
        assert_eq!(rows(&small), want);
        // Past the limit (here 4 bytes of text; 2 GiB in use) the offsets are 64-bit.
        let large = Text::concat_within(&parts, "orders.id", 4).unwrap();
        assert!(matches!(large, Text::Large(_)));
        assert_eq!(rows(&large), want);
        let absent = Text::concat(&[new_null_array(&DataType::Utf8, 2)], "orders.at").unwrap();
        assert!(matches!(absent, Text::Absent));
        assert_eq!(absent.get(0), None);
        // The text the rows span ("o1" and "o22"), the hint the validator reserves with.
        assert_eq!((small.bytes(), large.bytes(), absent.bytes()), (5, 5, 0));
        let sliced = Text::Small(StringArray::from(vec!["aa", "bbb", "c"]).slice(1, 2));
        assert_eq!(sliced.bytes(), 4);
    }
}
