"""Settlement on Apache Spark, where a platform's orders already live.

:func:`settle` takes Spark DataFrames with the columns of ``docs/tables.md``
and settles them in the phases SPEC §10.6 allows, each phase the Rust
core's (this module only moves Arrow batches and bytes between Spark and
``fenrun._fenrun.Spread``):

1. the metric sums of each partition's orders and refunds, merged exactly
   on the driver;
2. ranks and activity evaluated once from the merged sums (on the driver,
   and again, identically, on each executor from the broadcast sums);
3. each partition's order lines and totals (``mapInArrow``), each refund
   in the partition of its order;
4. pools and member caps from the merged totals and net sales, on the driver.

The result equals ``fenrun settle`` on one machine to the cent, whatever the
number of partitions and the order of rows (see ``docs/spark.md``).

>>> from fenrun.spark import settle  # doctest: +SKIP
>>> s = settle(policy, members_df, orders_df, groups_df)  # doctest: +SKIP
>>> s.totals.orderBy("member").show()  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional

import pyarrow as pa
import pyarrow.compute as pc

from ._fenrun import Spread

__all__ = ["SparkSettlement", "settle"]

# Executors keep the state of each job's broadcast: the member and group
# tables, the policy and the merged sums, made into a Spread once per
# Python worker rather than once per partition.
_SPREADS: Dict[str, Spread] = {}


@dataclass(frozen=True)
class SparkSettlement:
    """The result of :func:`settle`.

    ``lines`` and ``totals`` are Spark DataFrames (money as ``DecimalType``
    at the policy scale); ``lines`` is lazy and settles the orders again
    each time an action runs on it (cache or write it once).
    ``summary`` and ``rank_changes`` are Python values: the summary of
    :attr:`fenrun.Settlement.summary` (``Decimal`` money) and the rank
    changes as dicts, both the same as ``fenrun settle`` writes.
    ``timings`` holds the seconds each phase took on the driver's clock:
    ``members`` (the member and group tables brought to the driver and
    checked), ``sums`` (metric sums of each partition, merged), ``totals``
    (each partition settled without lines) and ``finish`` (pools, member
    caps, totals and summary on the driver).
    """

    lines: Any
    totals: Any
    summary: Dict[str, Any]
    rank_changes: List[Dict[str, Any]]
    partitions: int
    timings: Dict[str, float]


class _Clock:
    def __init__(self) -> None:
        self.laps: Dict[str, float] = {}
        self.start = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self.start
        self.start = now


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _table(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _collect(df: Any) -> Optional[pa.Table]:
    """A DataFrame brought to the driver as one Arrow table (None: no rows)."""

    def to_ipc(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        batches = iter(batches)
        first = next(batches, None)
        if first is None:
            return
        table = pa.Table.from_batches(itertools.chain([first], batches))
        yield pa.RecordBatch.from_pydict({"ipc": [_ipc(table)]})

    parts = [_table(r.ipc) for r in df.mapInArrow(to_ipc, "ipc binary").collect()]
    if not parts:
        return None
    return pa.concat_tables(parts)


def _spread(shared: Any) -> Spread:
    """The executor's Spread for a broadcast (made on first use)."""
    token, policy, members, groups, _ = shared.value
    spread = _SPREADS.get(token)
    if spread is None:
        spread = Spread(policy, _table(members), None if groups is None else _table(groups))
        _SPREADS.clear()
        _SPREADS[token] = spread
    return spread


def _events(batches: Iterator[pa.RecordBatch]) -> Optional[pa.Table]:
    """One partition's rows in an order the core settles: orders first, then
    refunds by ``at`` (when given) and ``id`` (Spark rows have no order)."""
    batches = list(batches)
    if not batches:
        return None
    table = pa.Table.from_batches(batches)
    if "refund_of" not in table.column_names:
        return table
    keys = [("_refund", "ascending")]
    keys += [("at", "ascending")] if "at" in table.column_names else []
    keys += [("id", "ascending")]
    ranked = table.append_column("_refund", pc.is_valid(table["refund_of"]))
    return ranked.sort_by(keys).drop_columns(["_refund"])


def _spark_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type Spark reads for a column of the core's lines table
    (Spark has no dictionary or unsigned types)."""
    if pa.types.is_dictionary(t):
        return _spark_type(t.value_type)
    if pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_unsigned_integer(t):
        return pa.int64()
    return t


def _ddl(schema: pa.Schema) -> str:
    def name(t: pa.DataType) -> str:
        if pa.types.is_string(t):
            return "string"
        if pa.types.is_int64(t):
            return "bigint"
        if pa.types.is_decimal(t):
            return f"decimal({t.precision},{t.scale})"
        if pa.types.is_boolean(t):
            return "boolean"
        raise TypeError(f"no Spark type for Arrow {t}")

    return ", ".join(f"`{f.name}` {name(f.type)}" for f in schema)


def _for_spark(table: pa.Table) -> pa.Table:
    schema = pa.schema([pa.field(f.name, _spark_type(f.type)) for f in table.schema])
    return table.cast(schema)


def _from_arrow(spark: Any, table: pa.Table, slices: int) -> Any:
    """A DataFrame of a driver-side Arrow table, shipped as IPC bytes and
    cut into ``slices`` partitions by the executors."""
    table = _for_spark(table)
    shared = spark.sparkContext.broadcast(_ipc(table))
    rows, slices = table.num_rows, max(1, min(slices, table.num_rows))

    def emit(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        whole = _table(shared.value)
        for b in batches:
            for k in b.column("id").to_pylist():
                start, stop = k * rows // slices, (k + 1) * rows // slices
                yield from whole.slice(start, stop - start).to_batches()

    return spark.range(0, slices, numPartitions=slices).mapInArrow(emit, _ddl(table.schema))


def settle(
    policy: Any,
    members: Any,
    orders: Any,
    groups: Any = None,
    refunds: Any = None,
    *,
    lines: bool = True,
    partitions: Optional[int] = None,
) -> SparkSettlement:
    """Settle Spark DataFrames under ``policy`` (a :class:`fenrun.Policy`,
    JSON text, a path or a dict), to the same cent as ``fenrun settle``.

    ``members``, ``orders``, ``groups`` and ``refunds`` have the columns of
    ``docs/tables.md`` (refunds may also be ``orders`` rows with
    ``refund_of``). Money columns are ``DecimalType`` or strings, never
    ``double`` (refused, as everywhere). ``partitions`` is the number of
    partitions the orders are dealt to by order id (default: the orders'
    own). With ``lines=False`` ``.lines`` is None. A policy in ``immediate``
    rank timing raises :class:`fenrun.PolicyError` (``not_splittable``): it
    is sequential (SPEC §13).
    """
    from pyspark.sql import functions as F

    spark = orders.sparkSession
    clock = _Clock()
    member_table = _collect(members)
    group_table = None if groups is None else _collect(groups)
    if member_table is None:
        member_table = pa.table({"id": pa.array([], pa.string())})
    # The driver's Spread checks the policy (immediate timing is refused
    # here, before any job), the members and the groups.
    driver = Spread(policy, member_table, group_table)
    clock.lap("members")
    events = orders
    if refunds is not None:
        events = events.unionByName(refunds, allowMissingColumns=True)
    key = F.col("id")
    if "refund_of" in events.columns:
        key = F.coalesce(F.col("refund_of"), F.col("id"))
    n = partitions or max(1, orders.rdd.getNumPartitions())
    events = events.repartition(n, key)
    shared = (
        uuid.uuid4().hex,
        driver.policy,
        _ipc(member_table),
        None if group_table is None else _ipc(group_table),
    )
    first = spark.sparkContext.broadcast(shared + (None,))

    def sums(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = _events(batches)
        if table is not None:
            yield pa.RecordBatch.from_pydict({"sums": [_spread(first).sums(table)]})

    parts = [r.sums for r in events.mapInArrow(sums, "sums binary").collect()]
    merged = Spread.merge(parts) if parts else driver.sums()
    clock.lap("sums")
    final = spark.sparkContext.broadcast(shared + (merged,))

    def totals(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        table = _events(batches)
        if table is not None:
            part = _spread(final).totals_part(final.value[4], table)
            yield pa.RecordBatch.from_pydict({"part": [part]})

    parts = [r.part for r in events.mapInArrow(totals, "part binary").collect()]
    clock.lap("totals")
    settled, changes = driver.finish(merged, parts)
    totals_df = _from_arrow(spark, settled.totals, n)
    clock.lap("finish")
    lines_df = None
    if lines:
        empty = _for_spark(driver.lines(merged))

        def order_lines(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            table = _events(batches)
            if table is not None:
                out = _for_spark(_spread(final).lines(final.value[4], table))
                yield from out.to_batches()

        lines_df = events.mapInArrow(order_lines, _ddl(empty.schema))
        tail = settled.lines
        if tail.num_rows:
            lines_df = lines_df.unionByName(_from_arrow(spark, tail, 1))
    return SparkSettlement(
        lines=lines_df,
        totals=totals_df,
        summary=settled.summary,
        rank_changes=json.loads(changes)["rank_changes"],
        partitions=n,
        timings=clock.laps,
    )
