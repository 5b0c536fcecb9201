//! Exception classes: one base, one subclass per error family of the core.
//! The code, family, path and message are the core's, unchanged.

use fenrun::ErrorFamily;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyType;

create_exception!(
    fenrun,
    FenrunError,
    PyException,
    "Base class of every error fenrun raises. Attributes: ``code`` (stable machine code, \
     e.g. ``\"sponsor_cycle\"``), ``family``, ``path`` (where in the input, e.g. \
     ``\"members[3].sponsor\"``) and ``message`` (the core's message, naming the record)."
);
create_exception!(
    fenrun,
    FormatError,
    FenrunError,
    "The input is not of the expected shape: not JSON, an unknown or missing field, a value \
     of the wrong type, money as a float, a malformed decimal, an unreadable table."
);
create_exception!(
    fenrun,
    PolicyError,
    FenrunError,
    "The policy is well-formed but not valid (unknown rank, decreasing rates, …)."
);
create_exception!(
    fenrun,
    InputError,
    FenrunError,
    "The batch is well-formed but not valid (unknown sponsor, cycle, over-refund, …)."
);
create_exception!(
    fenrun,
    LimitError,
    FenrunError,
    "A size or count limit was exceeded."
);
create_exception!(
    fenrun,
    ArithmeticError,
    FenrunError,
    "A computation left the range of exact decimal arithmetic (28 significant digits)."
);
create_exception!(
    fenrun,
    OutputError,
    FenrunError,
    "Writing the result failed."
);
create_exception!(
    fenrun,
    InternalError,
    FenrunError,
    "A bug in fenrun: the core stopped where it never should. Please report it with the \
     input that caused it. ``code`` and ``family`` are ``\"internal\"``."
);

/// The exception class of a family.
pub fn class_of(py: Python<'_>, family: ErrorFamily) -> Bound<'_, PyType> {
    match family {
        ErrorFamily::Format => py.get_type::<FormatError>(),
        ErrorFamily::Policy => py.get_type::<PolicyError>(),
        ErrorFamily::Input => py.get_type::<InputError>(),
        ErrorFamily::Limit => py.get_type::<LimitError>(),
        ErrorFamily::Arithmetic => py.get_type::<ArithmeticError>(),
        ErrorFamily::Output => py.get_type::<OutputError>(),
        ErrorFamily::Internal => py.get_type::<InternalError>(),
        // A family added to the core before this binding learnt it.
        _ => py.get_type::<FenrunError>(),
    }
}

fn raise(
    py: Python<'_>,
    class: Bound<'_, PyType>,
    code: &str,
    family: &str,
    path: &str,
    message: String,
) -> PyErr {
    let err = PyErr::from_type(class, message.clone());
    let value = err.value(py);
    let set = || -> PyResult<()> {
        value.setattr("code", code)?;
        value.setattr("family", family)?;
        value.setattr("path", path)?;
        value.setattr("message", message)?;
        Ok(())
    };
    match set() {
        Ok(()) => err,
        Err(e) => e,
    }
}

/// A core error as the exception of its family.
pub fn to_py(py: Python<'_>, e: &fenrun::Error) -> PyErr {
    let family = e.family();
    raise(
        py,
        class_of(py, family),
        e.code(),
        family.name(),
        e.path(),
        e.to_string(),
    )
}

/// A failure of a call into the core: its error, or a caught panic.
pub enum Failure {
    /// The core refused the input.
    Core(fenrun::Error),
    /// The core panicked: a bug.
    Panic(String),
}

impl From<fenrun::Error> for Failure {
    fn from(e: fenrun::Error) -> Failure {
        Failure::Core(e)
    }
}

impl Failure {
    /// The Python exception for this failure.
    pub fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            Failure::Core(e) => to_py(py, &e),
            Failure::Panic(what) => to_py(py, &fenrun::Error::panic(&what)),
        }
    }
}

/// Run `f` (a call into the core), turning a panic into [`Failure::Panic`]
/// so that it reaches Python as a bug report, never as a crash.
pub fn guarded<T>(f: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            Err(Failure::Panic(what))
        }
    }
}

/// Register the exception classes on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("FenrunError", py.get_type::<FenrunError>())?;
    m.add("FormatError", py.get_type::<FormatError>())?;
    m.add("PolicyError", py.get_type::<PolicyError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("LimitError", py.get_type::<LimitError>())?;
    m.add("ArithmeticError", py.get_type::<ArithmeticError>())?;
    m.add("OutputError", py.get_type::<OutputError>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}
