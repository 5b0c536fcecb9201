//! Python values → the core's inputs. Type conversion only: what a value
//! means (is a float money? is a field known?) is decided by the core.

use std::path::PathBuf;

use arrow_array::RecordBatch;
use arrow_pyarrow::{FromPyArrow, Table};
use fenrun_arrow::{Rows, Tables};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use serde_json::{Map, Number, Value};

/// Nesting deeper than any policy or batch has; a deeper value is refused
/// rather than walked.
const MAX_DEPTH: usize = 64;

/// A Python value (dict, list, str, int, bool, None, `decimal.Decimal`,
/// `datetime`) as a JSON value. Floats stay floats, so that the core refuses
/// them where money is expected, naming the field.
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_json_at(obj, 0)
}

fn to_json_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "value nested more than {MAX_DEPTH} levels deep"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::Number(i.into()));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::Number(u.into()));
        }
        return Err(PyValueError::new_err(format!(
            "integer {obj} does not fit 64 bits; give it as a decimal string"
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("the float {v} has no JSON form")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err(format!("dict key {k} is not a string")))?
                .to_cow()?
                .into_owned();
            map.insert(key, to_json_at(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for item in obj.try_iter()? {
            items.push(to_json_at(&item?, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    let py = obj.py();
    if obj.is_instance(DECIMAL.import(py, "decimal", "Decimal")?)? {
        // Positional notation ("100", never "1E+2"): the core reads the digits.
        return Ok(Value::String(
            py.import("builtins")?
                .call_method1("format", (obj, "f"))?
                .extract()?,
        ));
    }
    if obj.is_instance(DATETIME.import(py, "datetime", "datetime")?)? {
        return Ok(Value::String(obj.call_method0("isoformat")?.extract()?));
    }
    let type_name = obj.get_type().name()?.to_string();
    Err(PyTypeError::new_err(format!(
        "cannot use a {type_name} here: give dicts, lists, str, int, bool, None or \
         decimal.Decimal"
    )))
}

/// `decimal.Decimal`, imported once (also for money going out).
pub static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A JSON document argument: a dict, JSON text (str or bytes), or a path
/// (str not starting with `{`, or `os.PathLike`) to a JSON file.
pub enum Document {
    /// JSON text, handed to the core byte for byte.
    Text(String),
    /// A converted dict.
    Value(Value),
}

/// Read a document argument named `what`, with the name its errors give it:
/// `what` (`policy`, `batch`), or the file's path when it is one.
pub fn document(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<(Document, String)> {
    if obj.is_instance_of::<PyDict>() {
        return Ok((Document::Value(to_json(obj)?), what.to_owned()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_cow()?;
        if text.trim_start().starts_with('{') {
            return Ok((Document::Text(text.into_owned()), what.to_owned()));
        }
        return named_file(PathBuf::from(text.into_owned()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        let text = String::from_utf8_lossy(b.as_bytes()).into_owned();
        return Ok((Document::Text(text), what.to_owned()));
    }
    if let Ok(path) = obj.extract::<PathBuf>() {
        return named_file(path);
    }
    let type_name = obj.get_type().name()?.to_string();
    Err(PyTypeError::new_err(format!(
        "{what}: expected a dict, JSON text or a path, got {type_name}"
    )))
}

fn named_file(path: PathBuf) -> PyResult<(Document, String)> {
    let name = path.display().to_string();
    Ok((read_file(path)?, name))
}

/// A JSON file's text (an `OSError` naming the path if it cannot be read).
pub fn read_file(path: PathBuf) -> PyResult<Document> {
    Ok(Document::Text(std::fs::read_to_string(&path).map_err(
        |e| {
            PyErr::from(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        },
    )?))
}

/// One table argument: any object with the Arrow PyCapsule interface
/// (`__arrow_c_stream__`: pyarrow, polars, pandas, DuckDB, …; or
/// `__arrow_c_array__`: a record batch), or a list of dicts.
pub fn rows(obj: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Rows> {
    let Some(obj) = obj else {
        return Ok(Rows::default());
    };
    if obj.hasattr("__arrow_c_stream__")? {
        let (batches, _schema) = Table::from_pyarrow_bound(obj)?.into_inner();
        return Ok(Rows::Arrow(batches));
    }
    if obj.hasattr("__arrow_c_array__")? {
        return Ok(Rows::Arrow(vec![RecordBatch::from_pyarrow_bound(obj)?]));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return Ok(Rows::Json(to_json(obj)?));
    }
    let type_name = obj.get_type().name()?.to_string();
    Err(PyTypeError::new_err(format!(
        "{name}: expected an Arrow table (pyarrow, polars, pandas, … anything with \
         __arrow_c_stream__) or a list of dicts, got {type_name}"
    )))
}

/// The batch of a call: one document, or tables.
pub enum BatchInput {
    /// The §2.4 batch document, and the name its errors give it.
    Document(Document, String),
    /// Tables (members and orders at least).
    Tables(Tables),
}

/// The batch arguments of `settle` / `evaluate_ranks`.
pub struct BatchArgs<'a, 'py> {
    pub batch: Option<&'a Bound<'py, PyAny>>,
    pub members: Option<&'a Bound<'py, PyAny>>,
    pub orders: Option<&'a Bound<'py, PyAny>>,
    pub groups: Option<&'a Bound<'py, PyAny>>,
    pub refunds: Option<&'a Bound<'py, PyAny>>,
}

impl BatchArgs<'_, '_> {
    /// Convert to the core's input; the choice between a document and
    /// tables must be unambiguous.
    pub fn convert(&self) -> PyResult<BatchInput> {
        let tables = [self.members, self.orders, self.groups, self.refunds];
        let any_table = tables.iter().any(Option::is_some);
        match (self.batch, any_table) {
            (Some(_), true) => Err(PyTypeError::new_err(
                "give either batch= or the tables (members=, orders=, …), not both",
            )),
            (Some(b), false) => {
                let (doc, name) = document(b, "batch")?;
                Ok(BatchInput::Document(doc, name))
            }
            (None, true) => {
                if self.members.is_none() || self.orders.is_none() {
                    return Err(PyTypeError::new_err(
                        "tables need at least members= and orders= (groups= and refunds= are \
                         optional)",
                    ));
                }
                Ok(BatchInput::Tables(Tables {
                    members: rows(self.members, "members")?,
                    groups: rows(self.groups, "groups")?,
                    orders: rows(self.orders, "orders")?,
                    refunds: rows(self.refunds, "refunds")?,
                }))
            }
            (None, false) => Err(PyTypeError::new_err(
                "no batch: give batch= (dict, JSON text or path) or members= and orders= tables",
            )),
        }
    }
}
