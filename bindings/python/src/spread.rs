//! `fenrun._fenrun.Spread`: the steps of a settlement spread over machines
//! (SPEC §10.6) as `fenrun.spark` runs them, each on Arrow tables and bytes.
//! Every step is the core's ([`fenrun::Sums`], [`fenrun::Engine::with_sums`],
//! parts as bytes); this only converts arguments and results.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_pyarrow::{IntoPyArrow, Table};
use fenrun::{Batch, Engine, Sums};
use fenrun_arrow::{Rows, Tables};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::convert::rows;
use crate::errors::{guarded, Failure};
use crate::{policy_object, Policy, Settlement};

/// A settlement spread over machines (SPEC §10.6), step by step: a policy
/// with the member and group tables every machine shares; each method takes
/// one machine's orders and refunds (each refund with its order) or what
/// the machines sent, and answers with bytes or an Arrow table.
/// :mod:`fenrun.spark` runs these steps on Spark; any other engine that
/// moves bytes (Dask, Ray, a queue) can too.
///
/// >>> policy = {"version": 2, "evaluate_ranks": True,
/// ...   "ranks": [{"id": "member"}, {"id": "owner", "rate": "0.10",
/// ...              "upgrade": {"metric": "sales", "gte": 100}}],
/// ...   "rules": [{"id": "spread", "type": "differential"}]}
/// >>> spread = fenrun.Spread(policy, [{"id": "m1"}, {"id": "m2", "sponsor": "m1"}])
/// >>> a = [{"id": "o1", "seller": "m2", "amount": "60.00"}]
/// >>> b = [{"id": "o2", "seller": "m2", "amount": "50.00"}]
/// >>> sums = fenrun.Spread.merge([spread.sums(a), spread.sums(b)])  # m2 sold 110
/// >>> settled, changes = spread.finish(sums, [spread.totals_part(sums, a), spread.totals_part(sums, b)])
/// >>> settled.total_of("m2")
/// Decimal('11.00')
/// >>> spread.lines(sums, b).column("amount").to_pylist()
/// [Decimal('5.00')]
#[pyclass(module = "fenrun._fenrun", frozen)]
pub struct Spread {
    policy: Arc<fenrun::Policy>,
    /// The same policy as Python sees it (picklable, to ship to executors).
    object: Py<Policy>,
    members: Rows,
    groups: Rows,
}

impl Spread {
    /// The batch of these members and groups with `orders` and `refunds`.
    fn batch(&self, orders: Rows, refunds: Rows) -> Result<Batch, Failure> {
        let tables = Tables {
            members: self.members.clone(),
            groups: self.groups.clone(),
            orders,
            refunds,
        };
        Ok(tables.into_batch(&self.policy)?)
    }

    /// Run `f` on the batch of `orders` and `refunds` without the GIL.
    fn on<T: Send>(
        &self,
        py: Python<'_>,
        orders: Option<&Bound<'_, PyAny>>,
        refunds: Option<&Bound<'_, PyAny>>,
        f: impl FnOnce(Batch) -> Result<T, Failure> + Send,
    ) -> PyResult<T> {
        let (orders, refunds) = (rows(orders, "orders")?, rows(refunds, "refunds")?);
        py.detach(|| guarded(|| f(self.batch(orders, refunds)?)))
            .map_err(|f| f.into_py(py))
    }
}

fn sums_of(bytes: &[u8]) -> Result<Sums, Failure> {
    Ok(Sums::from_bytes(bytes)?)
}

#[pymethods]
impl Spread {
    /// Check the policy (`NotSplittable` for `immediate` rank timing) and the
    /// members and groups (the errors of :func:`fenrun.settle`).
    #[new]
    #[pyo3(signature = (policy, members, groups = None))]
    fn new(
        py: Python<'_>,
        policy: &Bound<'_, PyAny>,
        members: &Bound<'_, PyAny>,
        groups: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Spread> {
        let object = policy_object(py, policy)?;
        let spread = Spread {
            policy: object.get().policy.clone(),
            object: object.unbind(),
            members: rows(Some(members), "members")?,
            groups: rows(groups, "groups")?,
        };
        spread.on(py, None, None, |b| Ok(Sums::of(&spread.policy, &b)?))?;
        Ok(spread)
    }

    /// The metric sums of these orders and refunds, as bytes.
    #[pyo3(signature = (orders = None, refunds = None))]
    fn sums<'py>(
        &self,
        py: Python<'py>,
        orders: Option<&Bound<'py, PyAny>>,
        refunds: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.on(py, orders, refunds, |b| {
            Ok(Sums::of(&self.policy, &b)?.to_bytes())
        })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The sums of every machine merged, as bytes.
    #[staticmethod]
    fn merge<'py>(py: Python<'py>, parts: Vec<Vec<u8>>) -> PyResult<Bound<'py, PyBytes>> {
        let merged = py
            .detach(|| {
                guarded(|| {
                    let all = parts.iter().map(|p| sums_of(p));
                    Ok(Sums::merge_all(all.collect::<Result<Vec<_>, _>>()?)?)
                })
            })
            .map_err(|f| f.into_py(py))?;
        Ok(PyBytes::new(py, &merged.to_bytes()))
    }

    /// These orders settled with the ranks of the merged `sums`, without
    /// lines: the part's totals, breakage and cap cut, as bytes.
    #[pyo3(signature = (sums, orders = None, refunds = None))]
    fn totals_part<'py>(
        &self,
        py: Python<'py>,
        sums: Vec<u8>,
        orders: Option<&Bound<'py, PyAny>>,
        refunds: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.on(py, orders, refunds, |b| {
            let engine = Engine::with_sums(&self.policy, b, &sums_of(&sums)?)?;
            Ok(engine.part_bytes(&engine.settle_totals_part()?)?)
        })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// These orders' lines with the ranks of the merged `sums`, as a
    /// ``pyarrow.Table`` (the columns of :attr:`Settlement.lines`).
    #[pyo3(signature = (sums, orders = None, refunds = None))]
    fn lines(
        &self,
        py: Python<'_>,
        sums: Vec<u8>,
        orders: Option<&Bound<'_, PyAny>>,
        refunds: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let batch: RecordBatch = self.on(py, orders, refunds, |b| {
            let engine = Engine::with_sums(&self.policy, b, &sums_of(&sums)?)?;
            let part = engine.settle_part(|_| true)?;
            let policy = engine.policy();
            let arrays = fenrun_arrow::LineArrays::new(
                &engine.line_names(),
                policy.rounding().scale,
                policy.rate_scale(),
                fenrun_arrow::LineColumns::of(policy),
            );
            Ok(arrays.batch(part.lines())?)
        })?;
        let schema = batch.schema();
        let table = Table::try_new(vec![batch], schema)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(table.into_pyarrow(py)?.unbind())
    }

    /// The settlement of the merged `sums` and every machine's `parts`
    /// (totals, summary, and the pool and member-cap lines), and its rank
    /// changes as the canonical JSON of ``fenrun settle``.
    fn finish(
        &self,
        py: Python<'_>,
        sums: Vec<u8>,
        parts: Vec<Vec<u8>>,
    ) -> PyResult<(Settlement, String)> {
        let (engine, settled) = self.on(py, None, None, |b| {
            let engine = Engine::with_sums(&self.policy, b, &sums_of(&sums)?)?;
            let mut whole = fenrun::Part::default();
            for p in &parts {
                whole = whole.merge(engine.read_part(p)?)?;
            }
            let settled = engine.finish(whole)?;
            Ok((engine, settled))
        })?;
        let changes = engine.rank_changes_json();
        Ok((Settlement::new(engine, settled, true), changes))
    }

    /// The policy, as a :class:`Policy`.
    #[getter]
    fn policy(&self, py: Python<'_>) -> Py<Policy> {
        self.object.clone_ref(py)
    }

    fn __repr__(&self) -> String {
        format!("Spread(policy={})", self.policy.fingerprint())
    }
}
