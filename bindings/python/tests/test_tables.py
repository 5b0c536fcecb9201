"""Arrow tables in and out: pyarrow, pandas and polars inputs give the same
settlement; outputs keep decimals at the policy scale; the GIL is released."""

import decimal
import json
import threading

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fenrun
from conftest import REPO

POLICY = fenrun.Policy.from_file(REPO / "examples" / "community-retail" / "policy.json")
RANKS = POLICY.ranks


@st.composite
def batches(draw):
    """A random forest (each member's sponsor comes before it), ranks, groups,
    orders with 2-decimal amounts, and refunds of some of them."""
    n = draw(st.integers(1, 25))
    members = {"id": [], "sponsor": [], "rank": []}
    for i in range(n):
        members["id"].append(f"m{i}")
        members["sponsor"].append(None if i == 0 else draw(st.one_of(st.none(), st.sampled_from(members["id"][:i]))))
        members["rank"].append(draw(st.one_of(st.none(), st.sampled_from(RANKS))))
    groups = {"id": [], "owner": [], "size": []}
    for g in range(draw(st.integers(0, 5))):
        groups["id"].append(f"g{g}")
        groups["owner"].append(draw(st.sampled_from(members["id"])))
        groups["size"].append(draw(st.integers(0, 300)))
    k = draw(st.integers(0, 30))
    cents = draw(st.lists(st.integers(1, 10_000_000), min_size=k, max_size=k))
    orders = {
        "id": [f"o{j}" for j in range(k)],
        "seller": [draw(st.sampled_from(members["id"])) for _ in range(k)],
        "amount": [decimal.Decimal(c).scaleb(-2) for c in cents],
    }
    refunds = {"id": [], "refund_of": [], "amount": []}
    for j, c in enumerate(cents):
        if draw(st.booleans()) and draw(st.booleans()):
            refunds["id"].append(f"r{j}")
            refunds["refund_of"].append(f"o{j}")
            refunds["amount"].append(decimal.Decimal(draw(st.integers(1, c))).scaleb(-2))
    return members, groups, orders, refunds


def arrow(columns, types):
    return pa.table({k: pa.array(v, type=types[k]) for k, v in columns.items()})


TYPES = {"id": pa.string(), "sponsor": pa.string(), "rank": pa.string(), "owner": pa.string(),
         "size": pa.int64(), "seller": pa.string(), "refund_of": pa.string(),
         "amount": pa.decimal128(12, 2)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_pyarrow_pandas_polars_and_dicts_settle_alike(b):
    members, groups, orders, refunds = (arrow(t, TYPES) for t in b)
    tables = dict(members=members, groups=groups, orders=orders, refunds=refunds)
    want = fenrun.settle(POLICY, **tables).to_json()
    as_pandas = {k: t.to_pandas() for k, t in tables.items()}
    as_polars = {k: pl.from_arrow(t) for k, t in tables.items()}
    as_batches = {k: t.combine_chunks().to_batches()[0] if t.num_rows else t for k, t in tables.items()}
    as_dicts = {k: t.to_pylist() for k, t in tables.items()}
    for other in (as_pandas, as_polars, as_batches, as_dicts):
        assert fenrun.settle(POLICY, **other).to_json() == want
    # The same batch as one JSON document, refunds after every order.
    doc = {"members": [{k: v for k, v in m.items() if v is not None} for m in members.to_pylist()],
           "groups": groups.to_pylist(),
           "events": [{**o, "amount": str(o["amount"])} for o in orders.to_pylist()]
           + [{**r, "amount": str(r["amount"])} for r in refunds.to_pylist()]}
    assert fenrun.settle(POLICY, json.dumps(doc)).to_json() == want


def test_outputs_are_arrow_tables_with_exact_decimals():
    s = fenrun.settle(POLICY, REPO / "examples" / "community-retail" / "batch.json")
    expected = json.loads((REPO / "examples" / "community-retail" / "expected.json").read_text())
    assert s.totals.schema.field("amount").type == pa.decimal128(38, 2)
    assert {r["member"]: str(r["amount"]) for r in s.totals.to_pylist()} == expected["totals"]
    assert s.lines.schema.field("base").type == pa.decimal128(38, 2)
    # Lines add up to the hand-checked totals, member by member (SPEC §10).
    by_member = {}
    for line in s.lines.to_pylist():
        by_member[line["beneficiary"]] = by_member.get(line["beneficiary"], 0) + line["amount"]
    assert {m: str(a) for m, a in by_member.items() if a} == expected["totals"]
    assert s.rank_changes.column("member").to_pylist() == [c["member"] for c in expected["rank_changes"]]
    # `because` is Python objects: a list of leaves, each a dict, every
    # parameter present (None where the leaf has none).
    no_params = {"min_rank": None, "min_size": None, "name": None}
    assert s.rank_changes.column("because").to_pylist() == [
        [{**leaf, "params": {**no_params, **leaf["params"]}} for leaf in c["because"]]
        for c in expected["rank_changes"]]
    summary = {k: (str(v) if not isinstance(v, dict) else {r: str(x) for r, x in v.items()})
               for k, v in s.summary.items()}
    assert summary == expected["summary"]
    assert all(isinstance(v, decimal.Decimal) for v in s.totals.column("amount").to_pylist())
    assert s.to_pandas("totals")["amount"].map(str).tolist() == list(expected["totals"].values())
    assert s.to_polars("lines").height == s.lines.num_rows > 0
    assert s.to_arrow("lines") is s.lines
    with pytest.raises(ValueError):
        s.to_pandas("nothing")


def test_pandas_money_is_arrow_backed_decimal():
    import pandas as pd
    s = fenrun.settle(POLICY, REPO / "examples" / "community-retail" / "batch.json")
    lines = s.to_pandas("lines")
    assert lines["amount"].dtype == pd.ArrowDtype(pa.decimal128(38, 2))
    assert lines["base"].dtype == pd.ArrowDtype(pa.decimal128(38, 2))
    # A pool line has no level: a null integer, not a float NaN.
    assert lines["level"].dtype == pd.ArrowDtype(pa.uint32())
    assert lines["level"].isna().any()
    # Exact sums: 66147.00 in all (expected.json's total paid).
    assert lines["amount"].sum() == decimal.Decimal("66147.00")


def test_the_notebook_view_shows_summary_and_top_earners():
    s = fenrun.settle(POLICY, REPO / "examples" / "community-retail" / "batch.json")
    html = s._repr_html_()
    # The example: 66147.00 paid of 300650.00 (22.00 %), p-li first with 18019.00.
    assert "<td style=\"text-align:right\">66147.00 CNY</td>" in html
    assert "22.00 %" in html
    assert "top earners (9 of 9)" in html
    assert html.index("p-li") < html.index("tl-zhao")


def test_lines_false_keeps_totals_and_summary():
    batch = REPO / "examples" / "community-retail" / "batch.json"
    full = fenrun.settle(POLICY, batch)
    lean = fenrun.settle(POLICY, batch, lines=False)
    assert lean.totals.equals(full.totals)
    assert lean.summary == full.summary
    with pytest.raises(ValueError, match="lines=False"):
        lean.lines


def test_policy_from_every_source_is_the_same():
    path = REPO / "examples" / "community-retail" / "policy.json"
    text = path.read_text()
    batch = REPO / "examples" / "community-retail" / "batch.json"
    want = fenrun.settle(POLICY, batch).to_json()
    for p in (fenrun.Policy.from_json(text), fenrun.Policy.from_dict(json.loads(text)),
              fenrun.Policy.from_file(str(path)), json.loads(text), text, str(path), path):
        assert fenrun.settle(p, batch).to_json() == want
    assert POLICY.scale == 2 and POLICY.rounding == "half_up"


def test_evaluate_ranks_is_what_the_cli_prints(cli):
    policy = REPO / "examples" / "community-retail" / "policy.json"
    batch = REPO / "examples" / "community-retail" / "batch.json"
    r = fenrun.evaluate_ranks(policy, batch)
    rust = cli("ranks", "--policy", str(policy), "--batch", str(batch))
    assert rust.stdout == r.to_json() + "\n"
    first = r.rank_changes.to_pylist()[0]
    assert r.rank_of(first["member"]) == first["to"]
    assert r.rank_of("nobody") is None


def test_settlement_releases_the_gil(cli, tmp_path):
    """Another Python thread runs while a settlement is in the core."""
    gen = cli("gen", "--members", "20000", "--orders", "400000", "--seed", "7",
              "--out", str(tmp_path), "--format", "parquet")
    assert gen.returncode == 0, gen.stderr
    import pyarrow.parquet as pq
    tables = {n: pq.read_table(tmp_path / f"{n}.parquet") for n in ("members", "groups", "orders")}
    policy = REPO / "benches" / "compare" / "policy.json"
    done = threading.Event()
    result = {}

    def work():
        result["s"] = fenrun.settle(policy, lines=False, **tables)
        done.set()

    ticks = 0
    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks += 1
    t.join()
    assert result["s"].summary["net_sales"] > 0
    # With the GIL held for the whole settlement, this loop could only run in
    # the switch intervals before the call; released, it runs throughout.
    assert ticks > 100_000


def test_progress_reports_orders_settled():
    # The example has 12 orders (and a refund, not counted): the last report is (12, 12).
    calls = []
    s = fenrun.settle(POLICY, REPO / "examples" / "community-retail" / "batch.json",
                      progress=lambda settled, total: calls.append((settled, total)))
    assert calls and calls[-1] == (12, 12)
    assert all(0 <= done <= total == 12 for done, total in calls)
    assert s.to_json() == fenrun.settle(POLICY, REPO / "examples" / "community-retail" / "batch.json").to_json()


def test_progress_callback_errors_and_wrong_values():
    def broken(settled, total):
        raise KeyError("from the callback")
    with pytest.raises(KeyError, match="from the callback"):
        fenrun.settle(POLICY, REPO / "examples" / "community-retail" / "batch.json", progress=broken)
    with pytest.raises(TypeError, match="progress"):
        fenrun.settle(POLICY, REPO / "examples" / "community-retail" / "batch.json", progress=3)



def test_progress_true_draws_a_tqdm_bar(capsys):
    batch = REPO / "examples" / "community-retail" / "batch.json"
    try:
        import tqdm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="tqdm"):
            fenrun.settle(POLICY, batch, progress=True)
        return
    s = fenrun.settle(POLICY, batch, progress=True)
    assert str(s.summary["total_paid"]) == "66147.00"
    # tqdm draws on stderr; the bar ends at 12 of 12 orders (counts in units: 12.0, 10.0M).
    last = capsys.readouterr().err.split("\r")[-1]
    assert "100%" in last and "12.0/12.0" in last


def test_a_repeated_row_counts_once_under_a_version_2_policy():
    # SPEC §14.2: o1 delivered twice counts once; m1 (0.10 over a member at 0)
    # earns 0.10 × (30.00 + 12.00) = 4.20. The same id written 5.0 after 5.00
    # is another message: event_conflict at its row.
    policy = fenrun.Policy.from_json(json.dumps({
        "version": 2, "ranks": [{"id": "member"}, {"id": "owner", "rate": "0.10"}],
        "rules": [{"id": "spread", "type": "differential"}]}))
    members = pa.table({"id": ["m1", "m2"], "sponsor": [None, "m1"], "rank": ["owner", None]})
    money = pa.decimal128(12, 2)
    orders = pa.table({"id": ["o1", "o1", "o2"], "seller": ["m2"] * 3,
                       "amount": pa.array([decimal.Decimal("30.00")] * 2 + [decimal.Decimal("12.00")], money)})
    s = fenrun.settle(policy, members=members, orders=orders)
    assert {r["member"]: str(r["amount"]) for r in s.totals.to_pylist()} == {"m1": "4.20"}
    conflict = pa.table({"id": ["o2", "o1", "o2"], "seller": ["m2"] * 3, "amount": ["5.00", "30.00", "5.0"]})
    with pytest.raises(fenrun.InputError) as e:
        fenrun.settle(policy, members=members, orders=conflict)
    assert (e.value.code, e.value.path) == ("event_conflict", "orders[2].id")
