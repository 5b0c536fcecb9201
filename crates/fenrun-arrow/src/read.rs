//! Arrow record batches → fenrun records. Every column is checked against the
//! kind of its field before a row is read; money is never read from a float.

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, Int64Array, RecordBatch, StringArray,
};
use arrow_cast::cast::{cast_with_options, CastOptions};
use arrow_schema::DataType;
use fenrun::input::{parse_decimal, EventRecord, GroupRecord, MemberRecord};
use fenrun::{Error, Result};
use rust_decimal::Decimal;

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
}

/// A table's columns, looked up by name, with the table's name for paths.
struct Table<'a> {
    name: &'a str,
    /// Row number of this record batch's first row within the table.
    offset: usize,
    cols: Vec<(String, Col)>,
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
fn normalize(array: &ArrayRef, kind: Kind, path: String) -> Result<Col> {
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
        Kind::Money if dt.is_floating() => Err(Error::FloatNumber {
            path,
            detail: format!(
                "a {dt} column: money is never read from binary floating point; \
                 write it as decimal128 or as decimal strings"
            ),
        }),
        Kind::Money if dt.is_integer() => {
            let a = strict_cast(array, &DataType::Decimal128(38, 0), &path)?;
            Ok(Col::Dec(a.as_primitive::<Decimal128Type>().clone(), 0))
        }
        Kind::Money => match dt {
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
        fields: &[FieldSpec],
        attrs: bool,
    ) -> Result<Table<'a>> {
        let schema = batch.schema();
        let mut cols = Vec::with_capacity(schema.fields().len());
        for (f, array) in schema.fields().iter().zip(batch.columns()) {
            let col = f.name();
            let kind = match fields.iter().find(|s| s.name == col.as_str()) {
                Some(spec) => spec.kind,
                None if attrs && col.len() > ATTR_PREFIX.len() && col.starts_with(ATTR_PREFIX) => {
                    Kind::Money
                }
                None => {
                    return Err(Error::UnknownField {
                        path: name.to_owned(),
                        field: col.clone(),
                    })
                }
            };
            if cols.iter().any(|(c, _)| c == col) {
                return Err(Error::InvalidTable {
                    path: format!("{name}.{col}"),
                    detail: "the column appears twice".to_owned(),
                });
            }
            cols.push((
                col.clone(),
                normalize(array, kind, format!("{name}.{col}"))?,
            ));
        }
        if let Some(missing) = fields
            .iter()
            .find(|s| s.required && !cols.iter().any(|(c, _)| c == s.name))
        {
            return Err(Error::MissingField {
                path: name.to_owned(),
                field: missing.name.to_owned(),
            });
        }
        Ok(Table { name, offset, cols })
    }

    fn col(&self, name: &str) -> Option<&Col> {
        self.cols
            .iter()
            .find(|(c, _)| c == name)
            .map(|(_, col)| col)
    }

    fn path(&self, row: usize, field: &str) -> String {
        format!("{}[{}].{field}", self.name, self.offset + row)
    }

    fn missing(&self, row: usize, field: &str) -> Error {
        Error::MissingField {
            path: format!("{}[{}]", self.name, self.offset + row),
            field: field.to_owned(),
        }
    }

    fn text(&self, row: usize, name: &str) -> Result<Option<String>> {
        match self.col(name) {
            None => Ok(None),
            Some(Col::Str(a)) => Ok(a.is_valid(row).then(|| a.value(row).to_owned())),
            Some(_) => Err(self.internal(name)),
        }
    }

    fn required_text(&self, row: usize, name: &str) -> Result<String> {
        self.text(row, name)?.ok_or_else(|| self.missing(row, name))
    }

    fn money(&self, row: usize, name: &str) -> Result<Option<Decimal>> {
        match self.col(name) {
            None => Ok(None),
            Some(_) if !self.is_valid(row, name) => Ok(None),
            Some(Col::Str(a)) => parse_decimal(a.value(row), &self.path(row, name)).map(Some),
            Some(Col::Dec(a, scale)) => Decimal::try_from_i128_with_scale(a.value(row), *scale)
                .map(Some)
                .map_err(|_| Error::InvalidDecimal {
                    path: self.path(row, name),
                    detail: format!(
                        "{} at scale {scale} is outside the exact decimal range (28 significant digits)",
                        a.value(row)
                    ),
                }),
            Some(_) => Err(self.internal(name)),
        }
    }

    fn bool(&self, row: usize, name: &str) -> Result<Option<bool>> {
        match self.col(name) {
            None => Ok(None),
            Some(_) if !self.is_valid(row, name) => Ok(None),
            Some(Col::Bool(a)) => Ok(Some(a.value(row))),
            Some(Col::Str(a)) => match a.value(row) {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                other => Err(Error::InvalidType {
                    path: self.path(row, name),
                    detail: format!("\"{other}\" is not a boolean (true or false)"),
                }),
            },
            Some(_) => Err(self.internal(name)),
        }
    }

    fn int(&self, row: usize, name: &str) -> Result<Option<i64>> {
        match self.col(name) {
            None => Ok(None),
            Some(_) if !self.is_valid(row, name) => Ok(None),
            Some(Col::Int(a)) => Ok(Some(a.value(row))),
            Some(Col::Str(a)) => {
                let text = a.value(row);
                let digits = text.strip_prefix('-').unwrap_or(text);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Error::InvalidType {
                        path: self.path(row, name),
                        detail: format!("\"{text}\" is not an integer"),
                    });
                }
                text.parse().map(Some).map_err(|_| Error::InvalidValue {
                    path: self.path(row, name),
                    detail: format!("{text} is out of range"),
                })
            }
            Some(_) => Err(self.internal(name)),
        }
    }

    fn is_valid(&self, row: usize, name: &str) -> bool {
        match self.col(name) {
            Some(Col::Str(a)) => a.is_valid(row),
            Some(Col::Dec(a, _)) => a.is_valid(row),
            Some(Col::Bool(a)) => a.is_valid(row),
            Some(Col::Int(a)) => a.is_valid(row),
            None => false,
        }
    }

    /// A column normalized to another kind than its field's: a bug of this crate.
    fn internal(&self, name: &str) -> Error {
        Error::InvalidTable {
            path: format!("{}.{name}", self.name),
            detail: "internal: column read as the wrong kind".to_owned(),
        }
    }
}

/// Read the `members` table: `id`, `sponsor`, `rank`, `active`, and
/// `attrs.<name>` columns for attributes (a null cell is an absent attribute).
pub fn members(batches: &[RecordBatch], name: &str) -> Result<Vec<MemberRecord>> {
    let mut out = Vec::with_capacity(rows(batches));
    for_each_batch(batches, name, MEMBER_FIELDS, true, |t, row| {
        let mut attrs = BTreeMap::new();
        for (col, _) in &t.cols {
            if let Some(attr) = col.strip_prefix(ATTR_PREFIX) {
                if let Some(v) = t.money(row, col)? {
                    attrs.insert(attr.to_owned(), v);
                }
            }
        }
        out.push(MemberRecord {
            id: t.required_text(row, "id")?.into(),
            sponsor: t.text(row, "sponsor")?.map(Into::into),
            rank: t.text(row, "rank")?.map(Into::into),
            active: t.bool(row, "active")?,
            attrs,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Read the `groups` table: `id`, `owner`, `size`.
pub fn groups(batches: &[RecordBatch], name: &str) -> Result<Vec<GroupRecord>> {
    let mut out = Vec::with_capacity(rows(batches));
    for_each_batch(batches, name, GROUP_FIELDS, false, |t, row| {
        out.push(GroupRecord {
            id: t.required_text(row, "id")?.into(),
            owner: t.required_text(row, "owner")?.into(),
            size: t.int(row, "size")?.ok_or_else(|| t.missing(row, "size"))?,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Read the `orders` table: `id`, `seller`, `buyer`, `amount`, `at`, and an
/// optional `refund_of` (a row with it is a refund, as in the JSON `events`).
pub fn orders(batches: &[RecordBatch], name: &str) -> Result<Vec<EventRecord>> {
    events(batches, name, ORDER_FIELDS)
}

/// Read a `refunds` table: `id`, `refund_of`, `amount`, `at`.
pub fn refunds(batches: &[RecordBatch], name: &str) -> Result<Vec<EventRecord>> {
    events(batches, name, REFUND_FIELDS)
}

fn events(batches: &[RecordBatch], name: &str, fields: &[FieldSpec]) -> Result<Vec<EventRecord>> {
    let mut out = Vec::with_capacity(rows(batches));
    for_each_batch(batches, name, fields, false, |t, row| {
        out.push(EventRecord {
            id: t.required_text(row, "id")?.into(),
            seller: t.text(row, "seller")?.map(Into::into),
            buyer: t.text(row, "buyer")?,
            amount: t
                .money(row, "amount")?
                .ok_or_else(|| t.missing(row, "amount"))?,
            at: t.text(row, "at")?,
            refund_of: t.text(row, "refund_of")?.map(Into::into),
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
    fields: &[FieldSpec],
    attrs: bool,
    mut row: impl FnMut(&Table<'_>, usize) -> Result<()>,
) -> Result<()> {
    let mut offset = 0;
    for batch in batches {
        let table = Table::new(name, offset, batch, fields, attrs)?;
        for r in 0..batch.num_rows() {
            row(&table, r)?;
        }
        offset += batch.num_rows();
    }
    Ok(())
}
