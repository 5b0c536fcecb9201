//! The Python binding of fenrun (`pip install fenrun`, module `fenrun._fenrun`,
//! re-exported by the `fenrun` package).
//!
//! It converts Python values and Arrow tables to the core's inputs, calls the
//! core without the GIL, and converts results back (Arrow tables through
//! pyarrow, money as `decimal.Decimal`). Every rule, default, rounding, error
//! code and message is the core's. A core panic reaches Python as
//! `fenrun.InternalError`, a bug report, never as a crash.
#![deny(missing_docs)]

mod convert;
mod errors;
mod spread;

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_pyarrow::{IntoPyArrow, Table};
use fenrun::{Batch, Engine};
use fenrun_arrow::ReadOptions;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::{BatchArgs, BatchInput, Document};
use crate::errors::{guarded, Failure};

/// A profit-split policy (SPEC §1): ranks, upgrade conditions, rules, rounding.
///
/// Build it from JSON text, a file or a dict; it is checked as it is built,
/// so an invalid policy raises there: :class:`PolicyError` (or
/// :class:`FormatError` for a malformed document) naming the offending path.
///
/// >>> policy = fenrun.Policy.from_dict({
/// ...     "version": 1,
/// ...     "ranks": [{"id": "member"}, {"id": "group_owner", "rate": "0.10"}],
/// ...     "rules": [{"id": "spread", "type": "differential"}]})
/// >>> policy.ranks
/// ['member', 'group_owner']
/// >>> fenrun.Policy.from_dict({"version": 1, "ranks": []})
/// Traceback (most recent call last):
/// ...
/// fenrun.PolicyError: ranks: the policy needs at least one rank
#[pyclass(module = "fenrun", frozen)]
pub(crate) struct Policy {
    policy: Arc<fenrun::Policy>,
    /// The JSON text it was built from, for pickling (a Spark job ships
    /// the policy to its executors this way).
    source: Arc<str>,
}

impl Policy {
    /// Check a policy document (without the GIL, panics caught); a JSON
    /// syntax error names the document (`policy`, or the file's path).
    pub(crate) fn build(py: Python<'_>, document: Document, name: &str) -> PyResult<Policy> {
        py.detach(|| {
            guarded(|| {
                let (policy, source) = match document {
                    Document::Text(t) => (fenrun::Policy::from_json(&t), t),
                    Document::Value(v) => {
                        let text = v.to_string();
                        (fenrun::Policy::from_value(v), text)
                    }
                };
                Ok((policy.map_err(|e| e.in_document(name))?, source))
            })
        })
        .map(|(policy, source)| Policy {
            policy: Arc::new(policy),
            source: source.into(),
        })
        .map_err(|f| f.into_py(py))
    }
}

#[pymethods]
impl Policy {
    /// A policy from JSON text.
    ///
    /// >>> fenrun.Policy.from_json('{"version": 1, "ranks": [{"id": "member"}]}').scale
    /// 2
    #[staticmethod]
    fn from_json(py: Python<'_>, text: String) -> PyResult<Policy> {
        Policy::build(py, Document::Text(text), "policy")
    }

    /// A policy from a JSON file (``str`` or ``os.PathLike``); a JSON syntax
    /// error names the file.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Policy> {
        let name = path.display().to_string();
        Policy::build(py, convert::read_file(path)?, &name)
    }

    /// A policy from a dict (the JSON document as Python values; decimals as
    /// ``str``, ``int`` or ``decimal.Decimal``, never ``float``).
    #[staticmethod]
    fn from_dict(py: Python<'_>, policy: &Bound<'_, PyDict>) -> PyResult<Policy> {
        Policy::build(py, Document::Value(convert::to_json(policy)?), "policy")
    }

    /// Pickled as the JSON text it was built from (and checked again when
    /// unpickled): what ships a policy to other processes, such as the
    /// executors of a Spark job.
    ///
    /// >>> import pickle
    /// >>> p = fenrun.Policy.from_json('{"version": 1, "ranks": [{"id": "member"}]}')
    /// >>> pickle.loads(pickle.dumps(p)).fingerprint == p.fingerprint
    /// True
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let from_json = slf.get_type().getattr("from_json")?;
        Ok((from_json, (slf.get().source.to_string(),)))
    }

    /// The policy's fingerprint (``sha256:…``), which ledger snapshots and
    /// the parts of a spread settlement carry.
    #[getter]
    fn fingerprint(&self) -> &str {
        self.policy.fingerprint()
    }

    /// Nothing left to check: a :class:`Policy` is valid once built (its
    /// constructors raise). Kept for code written when checking was deferred.
    fn validate(&self) {}

    /// Decimals kept in every amount (0–8).
    #[getter]
    fn scale(&self) -> u32 {
        self.policy.rounding().scale
    }

    /// The rounding mode: ``"half_up"``, ``"half_even"`` or ``"down"``.
    #[getter]
    fn rounding(&self) -> &'static str {
        self.policy.rounding().mode.name()
    }

    /// Rank ids, lowest first.
    #[getter]
    fn ranks(&self) -> Vec<String> {
        self.policy
            .ranks()
            .iter()
            .map(|r| r.id.to_string())
            .collect()
    }

    /// Rule ids, in the order they pay.
    #[getter]
    fn rules(&self) -> Vec<String> {
        self.policy
            .rules()
            .iter()
            .map(|r| r.id.to_string())
            .collect()
    }

    /// The currency code, if the policy names one.
    #[getter]
    fn currency(&self) -> Option<String> {
        self.policy.currency().map(str::to_owned)
    }

    fn __repr__(&self) -> String {
        let p = &self.policy;
        format!(
            "Policy(ranks={:?}, rules={:?}, scale={})",
            p.ranks().iter().map(|r| &*r.id).collect::<Vec<_>>(),
            p.rules().iter().map(|r| &*r.id).collect::<Vec<_>>(),
            p.rounding().scale
        )
    }
}

/// The policy argument: a `Policy`, or anything `Policy` is built from.
fn policy_arg(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Arc<fenrun::Policy>> {
    if let Ok(p) = obj.cast::<Policy>() {
        return Ok(Arc::clone(&p.get().policy));
    }
    Ok(policy_object(py, obj)?.get().policy.clone())
}

/// The policy argument as a :class:`Policy` (the same object if it is one).
pub(crate) fn policy_object<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, Policy>> {
    if let Ok(p) = obj.cast::<Policy>() {
        return Ok(p.clone());
    }
    let (document, name) = convert::document(obj, "policy")?;
    Bound::new(py, Policy::build(py, document, &name)?)
}

/// Validate the batch against the policy and prepare the engine (no GIL).
fn prepare(
    policy: Arc<fenrun::Policy>,
    input: BatchInput,
    round_float_money: bool,
) -> Result<Engine, Failure> {
    let batch = match input {
        BatchInput::Document(document, name) => match document {
            Document::Text(t) => Batch::from_json(&t, &policy),
            Document::Value(v) => Batch::from_value(v, &policy),
        }
        .map_err(|e| e.in_document(&name))?,
        BatchInput::Tables(t) => {
            let opts = if round_float_money {
                ReadOptions::round_floats_for(&policy)
            } else {
                ReadOptions::default()
            };
            t.into_batch_with(&policy, &opts)?
        }
    };
    Ok(Engine::new(&policy, batch)?)
}

/// Convert the arguments (with the GIL), then prepare the engine and run
/// `then` on it (without the GIL, panics caught).
fn prepared_then<T: Send>(
    py: Python<'_>,
    policy: &Bound<'_, PyAny>,
    args: &BatchArgs<'_, '_>,
    round_float_money: bool,
    then: impl FnOnce(Engine) -> Result<T, Failure> + Send,
) -> PyResult<T> {
    let policy = policy_arg(py, policy)?;
    let input = args.convert()?;
    py.detach(move || guarded(|| then(prepare(policy, input, round_float_money)?)))
        .map_err(|f| f.into_py(py))
}

fn core_table(
    py: Python<'_>,
    build: impl FnOnce() -> fenrun::Result<RecordBatch> + Send,
) -> PyResult<Py<PyAny>> {
    let batch = py
        .detach(|| guarded(|| Ok(build()?)))
        .map_err(|f| f.into_py(py))?;
    let schema = batch.schema();
    let table =
        Table::try_new(vec![batch], schema).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(table.into_pyarrow(py)?.unbind())
}

/// A JSON document of the core's whose leaves are money strings (or null),
/// as nested dicts (in the document's key order) of ``Decimal`` and ``None``.
fn money_tree(py: Python<'_>, json: &str) -> PyResult<Py<PyAny>> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(json);
    MoneyTree(py)
        .deserialize(&mut de)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

struct MoneyTree<'py>(Python<'py>);

impl<'de> serde::de::DeserializeSeed<'de> for MoneyTree<'_> {
    type Value = Py<PyAny>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Py<PyAny>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MoneyTree<'_> {
    type Value = Py<PyAny>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("money strings, nulls and objects of them")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Py<PyAny>, E> {
        decimal(self.0, s.to_owned()).map_err(E::custom)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Py<PyAny>, E> {
        Ok(self.0.None())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Py<PyAny>, A::Error> {
        use serde::de::Error;
        let out = PyDict::new(self.0);
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(MoneyTree(self.0))?;
            out.set_item(key, value).map_err(A::Error::custom)?;
        }
        Ok(out.into_any().unbind())
    }
}

fn decimal(py: Python<'_>, text: String) -> PyResult<Py<PyAny>> {
    Ok(convert::DECIMAL
        .import(py, "decimal", "Decimal")?
        .call1((text,))?
        .unbind())
}

fn dataframe(py: Python<'_>, table: Py<PyAny>, library: &str) -> PyResult<Py<PyAny>> {
    let table = table.into_bound(py);
    match library {
        // Arrow-backed columns: money stays decimal128 (exact, no Python
        // object per value), a null level stays a null integer.
        "pandas" => {
            let kwargs = PyDict::new(py);
            kwargs.set_item("types_mapper", py.import("pandas")?.getattr("ArrowDtype")?)?;
            Ok(table.call_method("to_pandas", (), Some(&kwargs))?.unbind())
        }
        _ => Ok(py
            .import("polars")?
            .call_method1("from_arrow", (table,))?
            .unbind()),
    }
}

/// The result of :func:`settle`: lines, totals, rank changes and summary
/// (SPEC §9), with every line explainable.
///
/// ``lines``, ``totals`` and ``rank_changes`` are ``pyarrow.Table`` objects
/// (money as decimal128 at the policy scale); :meth:`to_pandas` and
/// :meth:`to_polars` convert them. :meth:`to_json` gives the same bytes as
/// ``fenrun settle``.
#[pyclass(module = "fenrun", frozen)]
pub(crate) struct Settlement {
    prepared: Engine,
    settled: fenrun::Settlement,
    kept_lines: bool,
    lines: PyOnceLock<Py<PyAny>>,
    totals: PyOnceLock<Py<PyAny>>,
    rank_changes: PyOnceLock<Py<PyAny>>,
    earnings: PyOnceLock<Py<PyAny>>,
}

const TABLES: &str = "\"lines\", \"totals\", \"rank_changes\" or \"earnings\"";

impl Settlement {
    /// A settlement and the engine it came from (for `explain` and the
    /// measures); its tables are made when first asked for.
    pub(crate) fn new(
        prepared: Engine,
        settled: fenrun::Settlement,
        kept_lines: bool,
    ) -> Settlement {
        Settlement {
            prepared,
            settled,
            kept_lines,
            lines: PyOnceLock::new(),
            totals: PyOnceLock::new(),
            rank_changes: PyOnceLock::new(),
            earnings: PyOnceLock::new(),
        }
    }

    fn table(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        match name {
            "lines" => self.lines(py),
            "totals" => self.totals(py),
            "rank_changes" => self.rank_changes(py),
            "earnings" => self.earnings(py),
            other => Err(PyValueError::new_err(format!(
                "no table {other:?}: choose {TABLES}"
            ))),
        }
    }
}

#[pymethods]
impl Settlement {
    /// Every payout line (order, refund, rule, kind, beneficiary, level, base,
    /// rate, [fixed,] weight, amount[, available_at]), in §9 order. Raises ``ValueError`` if the
    /// settlement was made with ``lines=False``.
    #[getter]
    fn lines(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        if !self.kept_lines {
            return Err(PyValueError::new_err(
                "settled with lines=False: the lines were not kept (totals, rank changes and \
                 summary are complete)",
            ));
        }
        let policy = self.prepared.policy();
        let (rate_scale, columns) = (policy.rate_scale(), fenrun_arrow::LineColumns::of(policy));
        self.lines
            .get_or_try_init(py, || {
                core_table(py, || {
                    fenrun_arrow::lines_batch(&self.settled, rate_scale, columns)
                })
            })
            .map(|t| t.clone_ref(py))
    }

    /// What each member earns in the batch (``member``, ``amount``, and for a
    /// settlement made with ``as_of`` also ``available`` and ``pending``),
    /// sorted by member.
    #[getter]
    fn totals(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.totals
            .get_or_try_init(py, || {
                core_table(py, || fenrun_arrow::totals_batch(&self.settled))
            })
            .map(|t| t.clone_ref(py))
    }

    /// Members whose rank changed (``member``, ``from``, ``to``, ``because``:
    /// the leaves that made the new rank's condition hold, a list of dicts
    /// ``metric``, ``params``, ``value``, ``op``, ``threshold``).
    #[getter]
    fn rank_changes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.rank_changes
            .get_or_try_init(py, || {
                core_table(py, || {
                    fenrun_arrow::rank_changes_batch(self.settled.rank_changes())
                })
            })
            .map(|t| t.clone_ref(py))
    }

    /// What each member of the batch earns by source: ``member``, ``rank``,
    /// ``total``, ``own`` (on its own sales), ``team`` (on its downline's,
    /// 团队计酬), ``pool``, ``member_cap`` and ``own_sales``, in input order
    /// (money as decimal128 at the policy scale).
    #[getter]
    fn earnings(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.earnings
            .get_or_try_init(py, || {
                core_table(py, || {
                    fenrun_arrow::earnings_batch(&self.prepared.earnings(&self.settled)?)
                })
            })
            .map(|t| t.clone_ref(py))
    }

    /// The Lorenz curve of the members' totals: ``points + 1`` pairs
    /// ``(share of members, share of the total paid)`` as ``Decimal`` at 4
    /// places, the lowest earners first; empty when nothing is paid.
    #[pyo3(signature = (points = 100))]
    fn lorenz(&self, py: Python<'_>, points: usize) -> PyResult<Vec<(Py<PyAny>, Py<PyAny>)>> {
        let curve = py
            .detach(|| guarded(|| Ok(self.prepared.earnings(&self.settled)?.lorenz(points)?)))
            .map_err(|f| f.into_py(py))?;
        curve
            .into_iter()
            .map(|(x, y)| Ok((decimal(py, x.to_string())?, decimal(py, y.to_string())?)))
            .collect()
    }

    /// The summary: ``net_sales``, ``total_paid``, ``payout_ratio`` (``None``
    /// without sales), ``breakage`` by rule and ``cap_cut``, as ``Decimal``.
    #[getter]
    fn summary(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        // The core's §9 summary object, every amount as a Decimal.
        money_tree(py, &self.settled.summary_json())
    }

    /// What ``member`` earns in the batch, or ``None`` if it earns nothing.
    fn total_of(&self, py: Python<'_>, member: &str) -> PyResult<Option<Py<PyAny>>> {
        let scale = self.settled.scale();
        self.settled
            .total_of(member)
            .map(|d| decimal(py, fenrun::money_string(d, scale)))
            .transpose()
    }

    /// The settlement as canonical JSON (SPEC §9), byte for byte what
    /// ``fenrun settle`` prints for the same input.
    fn to_json(&self, py: Python<'_>) -> String {
        py.detach(|| self.settled.to_json())
    }

    /// Distribution measures: ``members``, ``earners``, ``gini``, top 1 % and
    /// 10 % shares, ``by_rank`` (members, total, mean, median, share, payout
    /// ratio) and ``sources`` (own sales, downline's sales, pools), as the
    /// core's JSON document parsed: amounts and ratios are exact decimal
    /// strings.
    fn stats(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let text = py
            .detach(|| guarded(|| Ok(self.prepared.stats(&self.settled)?.to_json())))
            .map_err(|f| f.into_py(py))?;
        parsed(py, &text)
    }

    /// The compliance lint of the policy and of this settlement under
    /// ``profile`` (``"cn-distribution"``, ``"cn-direct-selling"``, ``"ftc"``):
    /// ``profile``, ``errors``, ``warnings`` and ``findings`` (each ``code``,
    /// ``severity``, ``path``, ``message``, ``basis``). Not legal advice.
    fn lint(&self, py: Python<'_>, profile: &str) -> PyResult<Py<PyAny>> {
        let text = py
            .detach(|| {
                guarded(|| {
                    let profile = fenrun::Profile::from_name(profile)?;
                    Ok(self.prepared.lint(&self.settled, profile)?.to_json())
                })
            })
            .map_err(|f| f.into_py(py))?;
        parsed(py, &text)
    }

    /// One order's lines in words: the order, then each line's rule, who is
    /// paid, why, and the arithmetic.
    ///
    /// >>> s = fenrun.settle(
    /// ...     {"version": 1, "ranks": [{"id": "member"},
    /// ...         {"id": "group_owner", "rate": "0.10"}, {"id": "team_leader", "rate": "0.15"}],
    /// ...      "rules": [{"id": "spread", "type": "differential"}]},
    /// ...     {"members": [{"id": "m4", "rank": "team_leader"},
    /// ...                  {"id": "m9", "sponsor": "m4", "rank": "group_owner"}],
    /// ...      "events": [{"id": "o17", "seller": "m9", "amount": "120.00"}]})
    /// >>> s.total_of("m4")
    /// Decimal('6.00')
    /// >>> for line in s.explain("o17"): print(line)
    /// order o17: seller m9 (group_owner), amount 120.00
    /// spread differential: m9 (group_owner, rate 0.1), first paid in the chain: 0.1 × 120.00 = 12.00
    /// spread differential: m4 (team_leader, rate 0.15) over m9 (group_owner, 0.1): 0.05 × 120.00 = 6.00
    fn explain(&self, py: Python<'_>, order_id: &str) -> PyResult<Vec<String>> {
        py.detach(|| guarded(|| Ok(self.prepared.explain(order_id)?)))
            .map_err(|f| f.into_py(py))
    }

    /// One of the tables (``"lines"``, ``"totals"`` or ``"rank_changes"``) as
    /// a ``pyarrow.Table`` (the same object as the property of that name).
    #[pyo3(signature = (table = "totals"))]
    fn to_arrow(&self, py: Python<'_>, table: &str) -> PyResult<Py<PyAny>> {
        self.table(py, table)
    }

    /// One of the tables as a pandas DataFrame with Arrow-backed columns:
    /// money is ``decimal128(38, scale)[pyarrow]``, exact and without a
    /// Python object per value (``.astype(object)`` gives ``Decimal`` objects).
    #[pyo3(signature = (table = "totals"))]
    fn to_pandas(&self, py: Python<'_>, table: &str) -> PyResult<Py<PyAny>> {
        dataframe(py, self.table(py, table)?, "pandas")
    }

    /// One of the tables as a polars DataFrame (money as ``pl.Decimal``).
    #[pyo3(signature = (table = "totals"))]
    fn to_polars(&self, py: Python<'_>, table: &str) -> PyResult<Py<PyAny>> {
        dataframe(py, self.table(py, table)?, "polars")
    }

    /// The notebook view: the summary and the ten largest earners, as HTML.
    fn _repr_html_(&self) -> String {
        let s = &self.settled;
        let scale = s.scale();
        let money = |d| fenrun::money_string(d, scale);
        let escape = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let currency = self
            .prepared
            .policy()
            .currency()
            .map(|c| format!(" {}", escape(c)))
            .unwrap_or_default();
        let mut rows = vec![
            ("net sales".to_owned(), money(s.net_sales()) + &currency),
            ("total paid".to_owned(), money(s.total_paid()) + &currency),
            (
                "payout ratio".to_owned(),
                s.payout_ratio()
                    .map_or_else(|| "n/a".into(), fenrun::percent_string),
            ),
            ("cap cut".to_owned(), money(s.cap_cut()) + &currency),
        ];
        if let Some(cut) = s.member_cap_cut() {
            rows.push(("member cap cut".to_owned(), money(cut) + &currency));
        }
        for (rule, b) in s.breakage() {
            if !b.is_zero() {
                rows.push((
                    format!("unpaid (沉淀) {}", escape(rule)),
                    money(b) + &currency,
                ));
            }
        }
        let earners = s.totals().count();
        let top = s.top_earners(10);
        let mut html = String::from("<table><caption>fenrun settlement</caption><tbody>");
        for (k, v) in rows {
            html.push_str(&format!("<tr><th style=\"text-align:left\">{k}</th><td style=\"text-align:right\">{v}</td></tr>"));
        }
        html.push_str(&format!(
            "</tbody></table><table><caption>top earners ({} of {earners})</caption><thead><tr><th>member</th><th>earns</th></tr></thead><tbody>",
            top.len()
        ));
        for (member, amount) in top {
            html.push_str(&format!(
                "<tr><td>{}</td><td style=\"text-align:right\">{}</td></tr>",
                escape(member),
                money(amount) + &currency
            ));
        }
        html.push_str("</tbody></table>");
        html
    }

    fn __repr__(&self) -> String {
        let s = &self.settled;
        format!(
            "Settlement(lines={}, paid_members={}, net_sales={}, total_paid={})",
            if self.kept_lines {
                s.line_count().to_string()
            } else {
                "not kept".to_owned()
            },
            s.totals().count(),
            fenrun::money_string(s.net_sales(), s.scale()),
            fenrun::money_string(s.total_paid(), s.scale()),
        )
    }
}

/// The result of :func:`evaluate_ranks`: every member's evaluated rank and
/// activity, and the rank changes with their reasons.
#[pyclass(module = "fenrun", frozen)]
struct RankEvaluation {
    prepared: Engine,
}

#[pymethods]
impl RankEvaluation {
    /// Members whose rank changed (``member``, ``from``, ``to``, ``because``:
    /// a list of dicts, as :attr:`Settlement.rank_changes`).
    #[getter]
    fn rank_changes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        core_table(py, || {
            fenrun_arrow::rank_changes_batch(self.prepared.rank_changes())
        })
    }

    /// ``member``'s evaluated rank, or ``None`` for an unknown member.
    fn rank_of(&self, member: &str) -> Option<String> {
        self.prepared.rank_of(member).map(str::to_owned)
    }

    /// Whether ``member`` is active (``active_if``), or ``None`` for an unknown member.
    fn is_active(&self, member: &str) -> Option<bool> {
        self.prepared.is_active(member)
    }

    /// ``{"rank_changes": [...]}`` as canonical JSON, what ``fenrun ranks`` prints.
    fn to_json(&self) -> String {
        self.prepared.rank_changes_json()
    }

    fn __repr__(&self) -> String {
        format!(
            "RankEvaluation(rank_changes={})",
            self.prepared.rank_changes().len()
        )
    }
}

/// Who is told how a settlement progresses: a callable, or a tqdm bar.
enum Reporter {
    Callback(Py<PyAny>),
    Tqdm(Py<PyAny>),
}

/// The progress argument's reporter and the first error it raised.
struct Watch {
    reporter: Reporter,
    failed: std::sync::Mutex<Option<PyErr>>,
}

impl Watch {
    /// `progress=`: None (nothing), True (a tqdm bar) or a callable
    /// `progress(settled, total)`.
    fn new(py: Python<'_>, progress: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Watch>> {
        let Some(p) = progress.filter(|p| !p.is_none()) else {
            return Ok(None);
        };
        let reporter = if p.is_instance_of::<pyo3::types::PyBool>() {
            if !p.is_truthy()? {
                return Ok(None);
            }
            let tqdm = py.import("tqdm.auto").map_err(|_| {
                pyo3::exceptions::PyImportError::new_err(
                    "progress=True draws a tqdm bar: install tqdm, or pass a callable \
                     progress(settled, total)",
                )
            })?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("desc", "settling")?;
            kwargs.set_item("unit", " orders")?;
            kwargs.set_item("unit_scale", true)?;
            Reporter::Tqdm(tqdm.call_method("tqdm", (), Some(&kwargs))?.unbind())
        } else if p.is_callable() {
            Reporter::Callback(p.clone().unbind())
        } else {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "progress: expected None, True (a tqdm bar) or a callable progress(settled, total)",
            ));
        };
        Ok(Some(Watch {
            reporter,
            failed: std::sync::Mutex::new(None),
        }))
    }

    /// Tell the reporter; a callback that raised is not called again.
    fn report(&self, py: Python<'_>, counter: &fenrun::SettleProgress) {
        let mut failed = self
            .failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if failed.is_some() {
            return;
        }
        let (settled, total) = (counter.settled(), counter.total());
        let result = match &self.reporter {
            Reporter::Callback(f) => f.call1(py, (settled, total)).map(|_| ()),
            Reporter::Tqdm(bar) => (|| {
                let bar = bar.bind(py);
                bar.setattr("total", total)?;
                bar.setattr("n", settled)?;
                bar.call_method0("refresh").map(|_| ())
            })(),
        };
        if let Err(e) = result {
            *failed = Some(e);
        }
    }

    /// Run `work` (without the GIL) while a thread of its own reports
    /// `counter` about five times a second.
    fn during<T: Send>(
        &self,
        counter: &fenrun::SettleProgress,
        work: impl FnOnce() -> T + Send,
    ) -> T {
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let watcher = scope.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::park_timeout(std::time::Duration::from_millis(200));
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    Python::attach(|py| self.report(py, counter));
                }
            });
            let out = work();
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            watcher.thread().unpark();
            out
        })
    }

    /// The last report (the settlement is complete), closing a tqdm bar; the
    /// first exception the callback raised, if it raised one.
    fn finish(self, py: Python<'_>, counter: &fenrun::SettleProgress) -> PyResult<()> {
        self.report(py, counter);
        if let Reporter::Tqdm(bar) = &self.reporter {
            bar.bind(py).call_method0("close")?;
        }
        let failed = self
            .failed
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        failed.map_or(Ok(()), Err)
    }
}

/// Settle a batch under a policy (SPEC §5–§9), to the cent.
///
/// ``policy`` is a :class:`Policy`, a dict, JSON text or a path. The batch is
/// either ``batch`` (the SPEC §2.4 document: dict, JSON text or path) or
/// tables: ``members`` and ``orders`` (and optionally ``groups`` and
/// ``refunds``), each any Arrow table (pyarrow, polars, pandas, DuckDB: any
/// object with ``__arrow_c_stream__``) or a list of dicts. Money columns are
/// decimal128 or decimal strings; a float money column raises
/// :class:`FormatError` unless ``round_float_money=True``, which reads each
/// float as its shortest decimal and rounds it to the policy scale.
/// ``lines=False`` keeps totals, rank changes and summary only (less memory
/// on large batches). ``progress`` reports the orders settled while the core
/// settles: a callable ``progress(settled, total)``, called about five times
/// a second and once at the end, or ``True`` for a tqdm bar (tqdm must be
/// installed). The GIL is released while the core works.
///
/// >>> import pyarrow as pa
/// >>> policy = {"version": 1,
/// ...     "ranks": [{"id": "member"}, {"id": "group_owner", "rate": "0.10"}],
/// ...     "rules": [{"id": "spread", "type": "differential"}]}
/// >>> members = pa.table({"id": ["m1", "m2"], "sponsor": [None, "m1"],
/// ...                     "rank": ["group_owner", None]})
/// >>> orders = [{"id": "o1", "seller": "m2", "amount": "120.00"}]
/// >>> s = fenrun.settle(policy, members=members, orders=orders)
/// >>> s.totals.to_pylist()
/// [{'member': 'm1', 'amount': Decimal('12.00')}]
/// >>> s.summary["payout_ratio"]
/// Decimal('0.1')
#[pyfunction]
#[pyo3(signature = (policy, batch = None, *, members = None, orders = None, groups = None, refunds = None, lines = true, round_float_money = false, progress = None, as_of = None))]
#[allow(clippy::too_many_arguments)]
fn settle(
    py: Python<'_>,
    policy: &Bound<'_, PyAny>,
    batch: Option<&Bound<'_, PyAny>>,
    members: Option<&Bound<'_, PyAny>>,
    orders: Option<&Bound<'_, PyAny>>,
    groups: Option<&Bound<'_, PyAny>>,
    refunds: Option<&Bound<'_, PyAny>>,
    lines: bool,
    round_float_money: bool,
    progress: Option<&Bound<'_, PyAny>>,
    as_of: Option<&str>,
) -> PyResult<Settlement> {
    let options = settle_options(py, lines, as_of)?;
    let args = BatchArgs {
        batch,
        members,
        orders,
        groups,
        refunds,
    };
    let watch = Watch::new(py, progress)?;
    let counter = fenrun::SettleProgress::new();
    let (prepared, settled) = prepared_then(py, policy, &args, round_float_money, |prepared| {
        let settled = match &watch {
            Some(w) => w.during(&counter, || {
                prepared.settle_with(options.progress(counter.clone()))
            })?,
            None => prepared.settle_with(options)?,
        };
        Ok((prepared, settled))
    })?;
    if let Some(w) = watch {
        w.finish(py, &counter)?;
    }
    Ok(Settlement::new(prepared, settled, lines))
}

/// The options of a settlement asked from Python: lines kept or not, and an
/// ``as_of`` time (RFC 3339 text, read by the core).
fn settle_options(
    py: Python<'_>,
    lines: bool,
    as_of: Option<&str>,
) -> PyResult<fenrun::SettleOptions> {
    let options = fenrun::SettleOptions::default().lines(fenrun::Lines::kept(lines));
    Ok(match as_of {
        Some(t) => {
            options.as_of(fenrun::Timestamp::parse_as_of(t).map_err(|e| errors::to_py(py, &e))?)
        }
        None => options,
    })
}

/// Evaluate ranks only (SPEC §3–§4): the same inputs as :func:`settle`.
///
/// >>> r = fenrun.evaluate_ranks(
/// ...     {"version": 1, "evaluate_ranks": True, "ranks": [{"id": "member"},
/// ...      {"id": "group_owner", "rate": "0.10",
/// ...       "upgrade": {"metric": "largest_group", "gte": 100}}]},
/// ...     {"members": [{"id": "m1"}], "groups": [{"id": "g1", "owner": "m1", "size": 120}],
/// ...      "events": []})
/// >>> r.rank_of("m1")
/// 'group_owner'
/// >>> r.rank_changes.column("to").to_pylist()
/// ['group_owner']
#[pyfunction]
#[pyo3(signature = (policy, batch = None, *, members = None, orders = None, groups = None, refunds = None, round_float_money = false))]
#[allow(clippy::too_many_arguments)]
fn evaluate_ranks(
    py: Python<'_>,
    policy: &Bound<'_, PyAny>,
    batch: Option<&Bound<'_, PyAny>>,
    members: Option<&Bound<'_, PyAny>>,
    orders: Option<&Bound<'_, PyAny>>,
    groups: Option<&Bound<'_, PyAny>>,
    refunds: Option<&Bound<'_, PyAny>>,
    round_float_money: bool,
) -> PyResult<RankEvaluation> {
    let args = BatchArgs {
        batch,
        members,
        orders,
        groups,
        refunds,
    };
    let prepared = prepared_then(py, policy, &args, round_float_money, Ok)?;
    Ok(RankEvaluation { prepared })
}

/// A JSON document of the core's as plain Python data (``json.loads``).
fn parsed(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// Policy A and policy B settled on one batch, from :func:`compare`.
///
/// ``members`` is a ``pyarrow.Table`` (``member``, ``rank_a``, ``rank_b``,
/// ``total_a``, ``total_b``, ``delta``; the largest change first);
/// ``a`` and ``b`` are each side's ``summary`` and ``stats`` as the core's
/// JSON document parsed (amounts and ratios as exact decimal strings).
#[pyclass(module = "fenrun", frozen)]
struct Comparison {
    compared: fenrun::Comparison,
    members: PyOnceLock<Py<PyAny>>,
}

#[pymethods]
impl Comparison {
    /// Every member under both policies, the largest change first.
    #[getter]
    fn members(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.members
            .get_or_try_init(py, || {
                core_table(py, || fenrun_arrow::comparison_batch(&self.compared))
            })
            .map(|t| t.clone_ref(py))
    }

    /// Policy A's ``summary`` and ``stats``.
    #[getter]
    fn a(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        parsed(py, &self.compared.a.to_json())
    }

    /// Policy B's ``summary`` and ``stats``.
    #[getter]
    fn b(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        parsed(py, &self.compared.b.to_json())
    }

    /// The comparison as canonical JSON, byte for byte what ``fenrun diff``
    /// prints (without its final newline).
    fn to_json(&self, py: Python<'_>) -> String {
        py.detach(|| self.compared.to_json())
    }

    /// The member rows as a ``pyarrow.Table``.
    fn to_arrow(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.members(py)
    }

    /// The member rows as a pandas DataFrame with Arrow-backed columns.
    fn to_pandas(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        dataframe(py, self.members(py)?, "pandas")
    }

    /// The member rows as a polars DataFrame.
    fn to_polars(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        dataframe(py, self.members(py)?, "polars")
    }
}

/// Compare policy A and policy B on one batch (the same inputs as
/// :func:`settle`), each policy checked on its own: a :class:`Comparison`.
///
/// >>> a = {"version": 1, "ranks": [{"id": "member", "rate": "0.10"}],
/// ...      "rules": [{"id": "d", "type": "differential"}]}
/// >>> b = {**a, "ranks": [{"id": "member", "rate": "0.12"}]}
/// >>> batch = {"members": [{"id": "m1"}],
/// ...          "events": [{"id": "o1", "seller": "m1", "amount": "50.00"}]}
/// >>> c = fenrun.compare(a, b, batch)
/// >>> c.members.to_pylist()[0]["delta"]
/// Decimal('1.00')
/// >>> c.b["summary"]["total_paid"]
/// '6.00'
#[pyfunction]
#[pyo3(signature = (policy_a, policy_b, batch = None, *, members = None, orders = None, groups = None, refunds = None, round_float_money = false))]
#[allow(clippy::too_many_arguments)]
fn compare(
    py: Python<'_>,
    policy_a: &Bound<'_, PyAny>,
    policy_b: &Bound<'_, PyAny>,
    batch: Option<&Bound<'_, PyAny>>,
    members: Option<&Bound<'_, PyAny>>,
    orders: Option<&Bound<'_, PyAny>>,
    groups: Option<&Bound<'_, PyAny>>,
    refunds: Option<&Bound<'_, PyAny>>,
    round_float_money: bool,
) -> PyResult<Comparison> {
    let args = BatchArgs {
        batch,
        members,
        orders,
        groups,
        refunds,
    };
    let side = |policy: &Bound<'_, PyAny>| {
        prepared_then(py, policy, &args, round_float_money, |prepared| {
            let totals = fenrun::SettleOptions::default().lines(fenrun::Lines::TotalsOnly);
            let settled = prepared.settle_with(totals)?;
            Ok((prepared, settled))
        })
    };
    let (a, settled_a) = side(policy_a)?;
    let (b, settled_b) = side(policy_b)?;
    let compared = py
        .detach(|| guarded(|| Ok(fenrun::compare(&a, &settled_a, &b, &settled_b)?)))
        .map_err(|f| f.into_py(py))?;
    Ok(Comparison {
        compared,
        members: PyOnceLock::new(),
    })
}

/// The compliance lint of a policy alone under ``profile``
/// (``"cn-distribution"``, ``"cn-direct-selling"``, ``"ftc"``); with a
/// batch, :meth:`Settlement.lint`. Not legal advice.
///
/// >>> policy = {"version": 1, "ranks": [{"id": "member"}],
/// ...     "rules": [{"id": "dist", "type": "levels", "rates": ["0.10", "0.05"]}]}
/// >>> [f["code"] for f in fenrun.lint(policy, "cn-direct-selling")["findings"]]
/// ['team_compensation']
#[pyfunction]
fn lint(py: Python<'_>, policy: &Bound<'_, PyAny>, profile: &str) -> PyResult<Py<PyAny>> {
    let policy = policy_arg(py, policy)?;
    let text = py
        .detach(|| {
            guarded(|| {
                let profile = fenrun::Profile::from_name(profile)?;
                Ok(fenrun::lint(&policy, profile).to_json())
            })
        })
        .map_err(|f| f.into_py(py))?;
    parsed(py, &text)
}

/// One open period of a policy that takes events as they arrive (SPEC §14).
///
/// Open it with the starting members and groups (``batch=`` a document whose
/// events, if any, are applied too; or ``members=`` and ``groups=`` tables),
/// then :meth:`apply` events one at a time or :meth:`apply_many`. An event
/// applied before with the same content is a duplicate and changes nothing;
/// a refused event raises and changes nothing. :meth:`settlement` is the
/// period so far, byte for byte the batch settlement of the same events;
/// :meth:`snapshot` and :meth:`restore` keep it across restarts and languages.
///
/// >>> policy = {"version": 2, "ranks": [{"id": "member", "rate": "0.10"}],
/// ...           "rules": [{"id": "spread", "type": "differential"}]}
/// >>> ledger = fenrun.Ledger(policy, {"members": [{"id": "m1"}]})
/// >>> ledger.apply({"id": "o1", "seller": "m1", "amount": "50.00"})
/// {'position': 0, 'duplicate': False}
/// >>> ledger.apply({"id": "o1", "seller": "m1", "amount": "50.00"})
/// {'position': 0, 'duplicate': True}
/// >>> ledger.apply_many('{"id": "e1", "member": {"id": "m2", "sponsor": "m1"}}\n'
/// ...                   '{"id": "o2", "seller": "m2", "amount": "30.00"}\n')
/// {'applied': 2, 'duplicates': 0}
/// >>> restored = fenrun.Ledger.restore(policy, ledger.snapshot())
/// >>> restored.settlement().totals.to_pylist()
/// [{'member': 'm1', 'amount': Decimal('5.00')}, {'member': 'm2', 'amount': Decimal('3.00')}]
#[pyclass(module = "fenrun")]
struct Ledger {
    ledger: fenrun::Ledger,
}

impl Ledger {
    fn run<T: Send>(
        &mut self,
        py: Python<'_>,
        f: impl FnOnce(&mut fenrun::Ledger) -> fenrun::Result<T> + Send,
    ) -> PyResult<T> {
        let ledger = &mut self.ledger;
        py.detach(|| guarded(|| Ok(f(ledger)?)))
            .map_err(|f| f.into_py(py))
    }
}

#[pymethods]
impl Ledger {
    /// Open a period of ``policy`` (a :class:`Policy`, dict, JSON text or
    /// path) with ``batch`` (dict, JSON text or path: members, groups,
    /// events) or with ``members`` and ``groups`` tables (Arrow or lists of
    /// dicts); with neither, an empty period.
    #[new]
    #[pyo3(signature = (policy, batch = None, *, members = None, groups = None))]
    fn new(
        py: Python<'_>,
        policy: &Bound<'_, PyAny>,
        batch: Option<&Bound<'_, PyAny>>,
        members: Option<&Bound<'_, PyAny>>,
        groups: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Ledger> {
        let policy = policy_arg(py, policy)?;
        if batch.is_some() && (members.is_some() || groups.is_some()) {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "give either batch= or the tables (members=, groups=), not both",
            ));
        }
        let document = batch.map(|b| convert::document(b, "batch")).transpose()?;
        let tables = fenrun_arrow::Tables {
            members: convert::rows(members, "members")?,
            groups: convert::rows(groups, "groups")?,
            ..fenrun_arrow::Tables::default()
        };
        let ledger = py
            .detach(|| {
                guarded(|| {
                    Ok(match document {
                        Some((Document::Text(t), name)) => fenrun::Ledger::open_json(&policy, &t)
                            .map_err(|e| e.in_document(&name))?,
                        Some((Document::Value(v), name)) => fenrun::Ledger::open_value(&policy, v)
                            .map_err(|e| e.in_document(&name))?,
                        None => {
                            let (records, _) = tables.into_records()?;
                            fenrun::Ledger::open(&policy, records.members, records.groups)?
                        }
                    })
                })
            })
            .map_err(|f| f.into_py(py))?;
        Ok(Ledger { ledger })
    }

    /// A period from the bytes of :meth:`snapshot` (taken here or by any
    /// binding or the CLI), for the same policy.
    #[staticmethod]
    fn restore(py: Python<'_>, policy: &Bound<'_, PyAny>, snapshot: &[u8]) -> PyResult<Ledger> {
        let policy = policy_arg(py, policy)?;
        let bytes = snapshot.to_vec();
        let ledger = py
            .detach(|| guarded(|| Ok(fenrun::Ledger::restore(&policy, &bytes)?)))
            .map_err(|f| f.into_py(py))?;
        Ok(Ledger { ledger })
    }

    /// Apply one event (a dict: an order, refund, member, group or received
    /// event): ``{"position": i, "duplicate": bool}``, with ``"lines"`` (the
    /// event's lines as dicts, final) in ``immediate`` rank timing.
    fn apply(&mut self, py: Python<'_>, event: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
        let value = convert::to_json(event)?;
        let text = self.run(py, |l| Ok(l.apply_value(value)?.to_json()))?;
        parsed(py, &text)
    }

    /// Apply many events in order: a list of dicts, JSON Lines text (one
    /// event a line), or an Arrow table of orders and refunds (the columns
    /// of ``fenrun.settle``'s ``orders=``). Returns ``{"applied": n,
    /// "duplicates": d}``. A refused event raises; the events before it stay
    /// applied, it and the ones after it are not.
    fn apply_many(&mut self, py: Python<'_>, events: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        enum Many {
            Values(Vec<serde_json::Value>),
            Lines(String),
            Records(Vec<fenrun::input::EventRecord>),
        }
        let many = if let Ok(text) = events.extract::<String>() {
            Many::Lines(text)
        } else if events.is_instance_of::<pyo3::types::PyList>() {
            match convert::to_json(events)? {
                serde_json::Value::Array(items) => Many::Values(items),
                _ => Many::Values(Vec::new()),
            }
        } else {
            let orders = convert::rows(Some(events), "events")?;
            let tables = fenrun_arrow::Tables {
                orders,
                ..fenrun_arrow::Tables::default()
            };
            let (records, _) = py
                .detach(|| guarded(|| Ok(tables.into_records()?)))
                .map_err(|f| f.into_py(py))?;
            Many::Records(records.events)
        };
        let tally = self.run(py, |l| match many {
            Many::Lines(text) => l.apply_json_lines(&text),
            Many::Values(items) => l.apply_values(items),
            Many::Records(records) => {
                l.apply_events(records.into_iter().map(fenrun::input::StreamEvent::Sale))
            }
        })?;
        parsed(py, &tally.to_json())
    }
    /// The settlement of the events so far, as if the period closed now
    /// (the ledger stays open): a :class:`Settlement`.
    #[pyo3(signature = (*, lines = true, as_of = None))]
    fn settlement(
        &mut self,
        py: Python<'_>,
        lines: bool,
        as_of: Option<&str>,
    ) -> PyResult<Settlement> {
        let options = settle_options(py, lines, as_of)?;
        let (prepared, settled) = self.run(py, |l| {
            let engine = l.engine()?;
            let settled = engine.settle_with(options)?;
            Ok((engine, settled))
        })?;
        Ok(Settlement::new(prepared, settled, lines))
    }

    /// The period's rank changes so far (its evaluation of the events so
    /// far, without settling): ``member``, ``from``, ``to``, ``because``, as
    /// :attr:`Settlement.rank_changes`.
    fn rank_changes(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let changes = self.run(py, |l| l.rank_changes())?;
        core_table(py, || fenrun_arrow::rank_changes_batch(&changes))
    }

    /// The period as bytes for :meth:`restore` (docs/ledger.md: UTF-8 text,
    /// a record a line, ending with its SHA-256).
    fn snapshot<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let bytes = self.run(py, |l| Ok(l.snapshot()))?;
        Ok(pyo3::types::PyBytes::new(py, &bytes))
    }

    /// The policy's fingerprint, which the snapshot names (``"sha256:…"``).
    #[getter]
    fn fingerprint(&self) -> String {
        self.ledger.policy().fingerprint().to_owned()
    }

    /// Events applied so far (duplicates not counted again).
    fn __len__(&self) -> usize {
        self.ledger.len()
    }

    fn __repr__(&self) -> String {
        format!("<fenrun.Ledger: {} events>", self.ledger.len())
    }
}

/// The exception class raised for an error ``code`` (a subclass of
/// :class:`FenrunError`, by the code's family).
///
/// >>> fenrun.error_class("sponsor_cycle")
/// <class 'fenrun.InputError'>
#[pyfunction]
fn error_class(py: Python<'_>, code: &str) -> PyResult<Py<pyo3::types::PyType>> {
    match fenrun::ErrorFamily::of_code(code) {
        Some(f) => Ok(errors::class_of(py, f).unbind()),
        None => Err(PyValueError::new_err(format!(
            "unknown error code {code:?}"
        ))),
    }
}

/// The native module `fenrun._fenrun`.
#[pymodule]
fn _fenrun(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Policy>()?;
    m.add_class::<Settlement>()?;
    m.add_class::<RankEvaluation>()?;
    m.add_class::<Comparison>()?;
    m.add_class::<Ledger>()?;
    m.add_class::<spread::Spread>()?;
    m.add_function(wrap_pyfunction!(settle, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_ranks, m)?)?;
    m.add_function(wrap_pyfunction!(error_class, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(lint, m)?)?;
    errors::register(m)?;
    m.add("ERROR_CODES", PyTuple::new(m.py(), fenrun::Error::CODES)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
