"""Every golden vector through the Python API, by dict, by JSON text and by
Arrow tables, with the same bytes as the Rust command line."""

import json

import pyarrow as pa
import pytest

import fenrun
from conftest import batch_text, load_vectors, policy_text

# Ledger vectors (a stream of events instead of a batch) run in test_ledger.py.
VECTORS = [(n, v) for n, v in load_vectors() if "ledger" not in v]


def check_expect(v, out):
    doc = json.loads(out)
    for key, want in v.get("expect", {}).items():
        assert doc.get(key) == want, f"`{key}` differs"


def check_as_of(v, settle):
    """Each `expect_as_of` entry against the settlement as of its time."""
    for entry in v.get("expect_as_of", []):
        doc = json.loads(settle(entry["as_of"]).to_json())
        for key, want in entry.items():
            if key != "as_of":
                assert doc.get(key) == want, f"as of {entry['as_of']}: `{key}` differs"


def check_error(v, err):
    want = v["expect_error"]
    assert (err.code, err.path) == (want["code"], want["path"]), str(err)
    if "message_contains" in want:
        assert want["message_contains"] in str(err)
    assert isinstance(err, fenrun.error_class(err.code))
    assert err.message == str(err)


@pytest.mark.parametrize("name,v", VECTORS, ids=[n for n, _ in VECTORS])
def test_vector_by_text(name, v, cli, tmp_path):
    batch = batch_text(v)
    if "expect_error" in v:
        # A policy is checked as it is built; a batch when it is settled.
        with pytest.raises(fenrun.FenrunError) as e:
            policy = fenrun.Policy.from_json(policy_text(v))
            if batch is not None:
                fenrun.settle(policy, batch)
        check_error(v, e.value)
        return
    policy = fenrun.Policy.from_json(policy_text(v))
    if batch is None:
        if "expect_lint" in v:
            check_lint(v["expect_lint"], fenrun.lint(policy, v["lint_profile"]))
        return
    s = fenrun.settle(policy, batch)
    out = s.to_json()
    check_expect(v, out)
    # The CLI writes the same document, then a newline.
    (tmp_path / "p.json").write_text(policy_text(v))
    (tmp_path / "b.json").write_text(batch)
    rust = cli("settle", "--policy", str(tmp_path / "p.json"), "--batch", str(tmp_path / "b.json"))
    assert rust.returncode == 0, rust.stderr
    assert rust.stdout == out + "\n"
    if "expect_explain" in v:
        want = v["expect_explain"]
        assert s.explain(want["order"]) == want["text"]
    check_as_of(v, lambda t: fenrun.settle(policy, batch, as_of=t))
    for entry in v.get("expect_as_of", []):
        rust = cli("settle", "--policy", str(tmp_path / "p.json"), "--batch", str(tmp_path / "b.json"),
                   "--as-of", entry["as_of"])
        assert rust.returncode == 0, rust.stderr
        assert rust.stdout == fenrun.settle(policy, batch, as_of=entry["as_of"]).to_json() + "\n"
    check_analysis(v, policy, batch, s)


def check_lint(want, got):
    for key in ("profile", "errors", "warnings"):
        assert got[key] == want[key], f"lint `{key}` differs: {got}"
    assert len(got["findings"]) == len(want["findings"]), got
    for w, g in zip(want["findings"], got["findings"]):
        assert {k: g.get(k) for k in w} == w


def check_analysis(v, policy, batch, s):
    """The vector's measures, comparison and lint, as the Rust runner checks them."""
    if "expect_stats" in v:
        assert s.stats() == v["expect_stats"]
    if "expect_compare" in v:
        got = json.loads(fenrun.compare(policy, json.dumps(v["policy_b"]), batch).to_json())
        for key, want in v["expect_compare"].items():
            assert got[key] == want, f"comparison `{key}` differs"
    if "expect_lint" in v:
        check_lint(v["expect_lint"], s.lint(v["lint_profile"]))


def has_float(value):
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(has_float(x) for x in value.values())
    if isinstance(value, list):
        return any(has_float(x) for x in value)
    return False


DICT_VECTORS = [(n, v) for n, v in VECTORS if "policy_text" not in v and "batch_text" not in v]


@pytest.mark.parametrize("name,v", DICT_VECTORS, ids=[n for n, _ in DICT_VECTORS])
def test_vector_by_dict(name, v):
    """Dicts convert to the same JSON values: same results, same errors and paths."""
    if not isinstance(v.get("policy"), dict) or ("batch" in v and not isinstance(v["batch"], dict)):
        pytest.skip("the document is not an object: only text can carry it")
    if "batch" not in v:
        if "expect_error" in v:
            with pytest.raises(fenrun.FenrunError) as e:
                fenrun.Policy.from_dict(v["policy"])
            check_error(v, e.value)
        return
    if "expect_error" in v:
        with pytest.raises(fenrun.FenrunError) as e:
            fenrun.settle(v["policy"], v["batch"])
        check_error(v, e.value)
        return
    s = fenrun.settle(fenrun.Policy.from_dict(v["policy"]), v["batch"])
    check_expect(v, s.to_json())
    assert s.to_json() == fenrun.settle(policy_text(v), batch_text(v)).to_json()


TEXT = pa.string()
MEMBER_FIELDS = [("id", TEXT), ("sponsor", TEXT), ("rank", TEXT), ("active", pa.bool_())]
GROUP_FIELDS = [("id", TEXT), ("owner", TEXT), ("size", pa.int64())]
EVENT_FIELDS = [("id", TEXT), ("seller", TEXT), ("buyer", TEXT), ("amount", TEXT),
                ("at", TEXT), ("refund_of", TEXT)]


def as_text(x):
    return x if x is None or isinstance(x, str) else str(x)


def to_tables(batch):
    """The batch document as Arrow tables (money and attributes as decimal strings)."""
    members = batch.get("members", [])
    attrs = sorted({k for m in members for k in m.get("attrs", {})})
    fields = MEMBER_FIELDS + [(f"attrs.{a}", TEXT) for a in attrs]
    rows = []
    for m in members:
        row = {k: m.get(k) for k, _ in MEMBER_FIELDS}
        for a in attrs:
            row[f"attrs.{a}"] = as_text(m.get("attrs", {}).get(a))
        rows.append(row)
    events = [{**e, "amount": as_text(e.get("amount"))} for e in batch.get("events", [])]
    # Version 2: a nullable category column, only when some order has one.
    event_fields = EVENT_FIELDS + ([("category", TEXT)] if any("category" in e for e in events) else [])
    # Version 2: a nullable integer quantity column, only when some order has one.
    event_fields += [("quantity", pa.int64())] if any("quantity" in e for e in events) else []
    table = lambda rows, fields: pa.Table.from_pylist(rows, schema=pa.schema(fields))
    return {
        "members": table(rows, fields),
        "groups": table(batch.get("groups", []), GROUP_FIELDS),
        "orders": table(events, event_fields),
    }


def is_stream(batch):
    """A version-2 document read as a ledger's stream (SPEC §14.2): member,
    group or received events, or a repeated id. Tables carry orders and
    refunds only."""
    events = batch.get("events", [])
    ids = [e.get("id") for e in events]
    return len(set(ids)) < len(ids) or any(k in e for e in events for k in ("member", "group", "received"))


ARROW_VECTORS = [(n, v) for n, v in DICT_VECTORS
                 if "expect" in v and isinstance(v.get("batch"), dict) and not has_float(v["batch"])
                 and not is_stream(v["batch"])]


@pytest.mark.parametrize("name,v", ARROW_VECTORS, ids=[n for n, _ in ARROW_VECTORS])
def test_vector_by_arrow_tables(name, v):
    """The same batch as pyarrow tables settles to the same bytes."""
    s = fenrun.settle(v["policy"], **to_tables(v["batch"]))
    assert s.to_json() == fenrun.settle(policy_text(v), batch_text(v)).to_json()
    check_expect(v, s.to_json())


def test_every_vector_ran():
    assert len(VECTORS) >= 130
    assert sum("expect_lint" in v for _, v in VECTORS) >= 19
    assert sum("expect_compare" in v for _, v in VECTORS) >= 2
    assert sum("expect_stats" in v for _, v in VECTORS) >= 3
    assert len(ARROW_VECTORS) >= 70
