"""fenrun.spark: a settlement on Spark equals the CLI's on one machine to the
cent (totals, lines, summary, rank changes), whatever the number of
partitions and the order of rows; immediate timing is refused.

PySpark runs in local[2] with the machine's JDK (scripts/test.sh installs
both). Without PySpark the module is skipped, unless FENRUN_REQUIRE_SPARK
is set, as CI sets it, so that CI cannot pass by skipping.
"""

import json
import os
import sys
from decimal import Decimal

import pytest

if os.environ.get("FENRUN_REQUIRE_SPARK"):
    import pyspark  # noqa: F401
else:
    pytest.importorskip("pyspark")

import fenrun
from fenrun.spark import settle
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from conftest import REPO

POLICY = REPO / "examples" / "reference-policy.json"


@pytest.fixture(scope="module")
def spark():
    # The executors' Python is this one, where fenrun and pyarrow are installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("fenrun-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def generated(cli, tmp_path_factory):
    """100k members / 1M orders (and their refunds) as Parquet, and the CLI's
    settlement of them: the document and the lines file."""
    out = tmp_path_factory.mktemp("gen")
    r = cli("gen", "-q", "--members", "100000", "--orders", "1000000", "--format", "parquet",
            "--out", str(out))
    assert r.returncode == 0, r.stderr
    r = cli("settle", "-q", "--policy", str(POLICY), "--members", str(out / "members.parquet"),
            "--orders", str(out / "orders.parquet"), "--groups", str(out / "groups.parquet"),
            "--out", str(out / "doc.json"), "--lines-out", str(out / "lines.parquet"))
    assert r.returncode == 0, r.stderr
    return out, json.loads((out / "doc.json").read_text())


def tables(spark, out):
    read = lambda name: spark.read.parquet(str(out / f"{name}.parquet"))  # noqa: E731
    return read("members"), read("orders"), read("groups")


def money(summary):
    """A summary of Decimals as the CLI writes it (strings at the scale)."""
    return {k: (money(v) if isinstance(v, dict) else (None if v is None else str(v)))
            for k, v in summary.items()}


@pytest.mark.parametrize("partitions,shuffled", [(1, False), (2, True), (7, True)])
def test_spark_equals_the_cli(spark, generated, partitions, shuffled):
    out, doc = generated
    members, orders, groups = tables(spark, out)
    if shuffled:
        # Another order of rows, and of the members and groups too.
        orders = orders.orderBy(F.rand(seed=partitions))
        members = members.orderBy(F.rand(seed=partitions + 1))
        groups = groups.orderBy(F.rand(seed=partitions + 2))
    s = settle(fenrun.Policy.from_file(POLICY), members, orders, groups, partitions=partitions)
    assert s.partitions == partitions
    assert money(s.summary) == doc["summary"]
    assert json.loads(json.dumps(s.rank_changes)) == doc["rank_changes"]
    totals = {r.member: str(r.amount) for r in s.totals.collect()}
    assert totals == doc["totals"]
    assert dict(s.totals.dtypes)["amount"] == "decimal(38,2)"
    # Lines compared as multisets, in Spark: same count, nothing left over.
    cli_lines = spark.read.parquet(str(out / "lines.parquet"))
    ours = s.lines.select(*cli_lines.columns)
    assert dict(ours.dtypes)["amount"] == "decimal(38,2)"
    n = cli_lines.count()
    assert n > 1_000_000
    assert ours.count() == n
    assert ours.exceptAll(cli_lines).count() == 0


def test_totals_only_and_separate_refunds(spark, tmp_path, cli):
    """Refunds given apart, two refunds of one order in the partition of
    their order, a pool and a member cap, lines=False."""
    policy = {
        "version": 2, "evaluate_ranks": True,
        "ranks": [{"id": "member", "rate": "0.05"},
                  {"id": "owner", "rate": "0.10", "upgrade": {"metric": "sales", "gte": 100}}],
        "rules": [{"id": "spread", "type": "differential"},
                  {"id": "pool", "type": "pool", "rate": "0.01", "min_rank": "owner"}],
        "member_cap": {"amount": "8.00"},
    }
    members = spark.createDataFrame(
        [("m1", None), ("m2", "m1"), ("m3", "m1")], "id string, sponsor string")
    orders = spark.createDataFrame(
        [("o1", "m2", "60.00", "2026-11-01T10:00:00Z"), ("o2", "m2", "50.00", "2026-11-02T10:00:00Z"),
         ("o3", "m3", "40.00", "2026-11-03T10:00:00Z")],
        "id string, seller string, amount string, at string")
    refunds = spark.createDataFrame(
        [("r2", "o1", "10.00", "2026-11-05T10:00:00Z"), ("r1", "o1", "5.00", "2026-11-04T10:00:00Z")],
        "id string, refund_of string, amount string, at string")
    s = settle(policy, members, orders, refunds=refunds, lines=False, partitions=3)
    assert s.lines is None
    # By hand: m2 sells 60 + 50 - 5 - 10 = 95 < 100: stays member (5%);
    # m3 sells 40 (5%). Nobody is an owner, so the pool of 1% of net sales
    # 135.00 (1.35) has no recipient and breaks. m2 earns 5% of 110 = 5.50
    # less 5% of 15 = 0.75: 4.75; m3 earns 2.00; m1, a member too, earns no
    # differential (same rate). The cap of 8.00 cuts nothing.
    assert {r.member: str(r.amount) for r in s.totals.collect()} == {"m2": "4.75", "m3": "2.00"}
    assert s.summary["net_sales"] == Decimal("135.00")
    assert s.summary["breakage"]["pool"] == Decimal("1.35")
    assert s.summary["member_cap_cut"] == Decimal("0.00")
    # The same batch on one machine.
    batch = {"members": [{"id": "m1"}, {"id": "m2", "sponsor": "m1"}, {"id": "m3", "sponsor": "m1"}],
             "events": [{"id": "o1", "seller": "m2", "amount": "60.00", "at": "2026-11-01T10:00:00Z"},
                        {"id": "o2", "seller": "m2", "amount": "50.00", "at": "2026-11-02T10:00:00Z"},
                        {"id": "o3", "seller": "m3", "amount": "40.00", "at": "2026-11-03T10:00:00Z"},
                        {"id": "r1", "refund_of": "o1", "amount": "5.00", "at": "2026-11-04T10:00:00Z"},
                        {"id": "r2", "refund_of": "o1", "amount": "10.00", "at": "2026-11-05T10:00:00Z"}]}
    one = fenrun.settle(policy, batch)
    assert s.summary == one.summary


def test_an_immediate_policy_is_refused_before_any_job(spark):
    policy = json.loads(POLICY.read_text())
    policy["version"] = 2
    policy["rank_timing"] = "immediate"
    members = spark.createDataFrame([("m1",)], "id string")
    orders = spark.createDataFrame([("o1", "m1", "10.00")], "id string, seller string, amount string")
    with pytest.raises(fenrun.PolicyError) as e:
        settle(policy, members, orders)
    assert e.value.code == "not_splittable"
    assert "sequential" in str(e.value)


def test_policies_pickle_as_their_text():
    import pickle

    p = fenrun.Policy.from_file(POLICY)
    q = pickle.loads(pickle.dumps(p))
    assert q.fingerprint == p.fingerprint
    assert q.ranks == p.ranks


def test_spark_md_runs(spark, cli, monkeypatch):
    """docs/spark.md's worked example runs as written (its `fenrun` command
    with this checkout's CLI), from the repository root."""
    import re

    monkeypatch.chdir(REPO)
    text = (REPO / "docs" / "spark.md").read_text()
    commands = re.findall(r"```bash\n(.*?)```", text, re.S)
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(commands) == 1 and len(blocks) == 1
    args = commands[0].split()
    assert args[0] == "fenrun"
    r = cli(*args[1:])
    assert r.returncode == 0, r.stderr
    exec(compile(blocks[0], "docs/spark.md", "exec"), {"__name__": "docs"})
