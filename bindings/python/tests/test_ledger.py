"""The ledger (SPEC §14) from Python: every ledger vector, and snapshots that
move between Python and the command line in both directions."""

import hashlib
import json

import pyarrow as pa
import pytest

import fenrun
from conftest import load_vectors, policy_text

LEDGER_VECTORS = [(n, v) for n, v in load_vectors() if "ledger" in v]


def fingerprint(text):
    """docs/ledger.md's policy fingerprint, worked out here apart from the core."""
    canonical = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def check_snapshot(data, want, policy):
    """The snapshot format of docs/ledger.md, read here with hashlib and json."""
    text = data.decode()
    assert text.endswith("\n")
    content, last = text[:-1].rsplit("\n", 1)
    assert last == "sha256:" + hashlib.sha256((content + "\n").encode()).hexdigest()
    lines = content.split("\n")
    assert lines[0] == "fenrun-ledger-snapshot 1"
    header = json.loads(lines[1])
    assert header["policy"] == fingerprint(policy)
    records = [json.loads(x) for x in lines[2:]]
    assert records == want
    assert header["members"] + header["groups"] + header["events"] == len(records)


def run(v):
    """Open (or restore) and apply the vector's events up to the first refused one."""
    policy = fenrun.Policy.from_json(policy_text(v))
    given = v["ledger"]
    duplicates, answers, error, ledger = [], [], None, None
    try:
        if "restore" in given:
            ledger = fenrun.Ledger.restore(policy, given["restore"].encode())
        else:
            ledger = fenrun.Ledger(policy, {"members": given.get("members", []),
                                            "groups": given.get("groups", [])})
        for k, event in enumerate(given["events"]):
            if given.get("restore_after") == k:
                ledger = fenrun.Ledger.restore(policy, ledger.snapshot())
            answers.append(ledger.apply(event))
            if answers[-1]["duplicate"]:
                duplicates.append(event["id"])
    except fenrun.FenrunError as e:
        error = e
    return ledger, duplicates, answers, error


@pytest.mark.parametrize("name,v", LEDGER_VECTORS, ids=[n for n, _ in LEDGER_VECTORS])
def test_ledger_vector(name, v):
    ledger, duplicates, answers, error = run(v)
    if "expect_error" in v:
        want = v["expect_error"]
        assert error is not None, "expected an error"
        assert (error.code, error.path) == (want["code"], want["path"]), str(error)
        if "message_contains" in want:
            assert want["message_contains"] in str(error)
        assert isinstance(error, fenrun.error_class(error.code))
    else:
        assert error is None, str(error)
    if "expect_duplicates" in v:
        assert duplicates == v["expect_duplicates"]
    if "expect_answers" in v:
        assert answers == v["expect_answers"]
    if "expect" in v:
        doc = json.loads(ledger.settlement().to_json())
        for key, want in v["expect"].items():
            assert doc.get(key) == want, f"`{key}` differs"
    for entry in v.get("expect_as_of", []):
        doc = json.loads(ledger.settlement(as_of=entry["as_of"]).to_json())
        for key, want in entry.items():
            if key != "as_of":
                assert doc.get(key) == want, f"as of {entry['as_of']}: `{key}` differs"
    if "expect_snapshot" in v:
        check_snapshot(ledger.snapshot(), v["expect_snapshot"], policy_text(v))


def test_every_ledger_vector_ran():
    assert len(LEDGER_VECTORS) >= 10


POLICY = {"version": 2,
          "ranks": [{"id": "member", "rate": "0.10"}, {"id": "owner", "rate": "0.20",
                     "upgrade": {"metric": "largest_group", "gte": 100}}],
          "evaluate_ranks": True,
          "rules": [{"id": "spread", "type": "differential"}]}
EVENTS = [
    {"id": "e1", "member": {"id": "m2", "sponsor": "m1"}},
    {"id": "o1", "seller": "m2", "buyer": "c1", "amount": "100.00"},
    {"id": "g1", "group": {"id": "g1", "owner": "m1", "size": 150}},
    {"id": "r1", "refund_of": "o1", "amount": "25.00"},
]


def test_a_python_snapshot_settles_in_the_cli_and_back(cli, tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(POLICY))
    ledger = fenrun.Ledger(POLICY, {"members": [{"id": "m1"}]})
    assert ledger.apply_many(EVENTS[:2]) == {"applied": 2, "duplicates": 0}
    state = tmp_path / "state"
    state.write_bytes(ledger.snapshot())
    # The CLI goes on from Python's state, then Python from the CLI's.
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    out = cli("ledger", "apply", "--policy", str(policy), "--state", str(state), "--events", str(events))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("applied 2, duplicates 2;")
    settled = cli("ledger", "settle", "--policy", str(policy), "--state", str(state))
    assert settled.returncode == 0, settled.stderr
    back = fenrun.Ledger.restore(POLICY, state.read_bytes())
    assert len(back) == 4
    assert back.settlement().to_json() + "\n" == settled.stdout
    ledger.apply_many(EVENTS)
    assert ledger.snapshot() == state.read_bytes()
    # m1 is owner (group of 150): 0.10 x 100.00, m2 0.10 x 100.00; a quarter refunded: 7.50 each.
    assert back.settlement().totals.to_pylist() == [
        {"member": "m1", "amount": fenrun_decimal("7.50")},
        {"member": "m2", "amount": fenrun_decimal("7.50")}]


def fenrun_decimal(text):
    import decimal
    return decimal.Decimal(text)


def test_apply_many_takes_json_lines_and_arrow_orders():
    ledger = fenrun.Ledger(POLICY, members=[{"id": "m1"}])
    lines = '{"id": "o1", "seller": "m1", "amount": "10.00"}\n\n{"id": "o2", "seller": "m1", "amount": "20.00"}\n'
    assert ledger.apply_many(lines) == {"applied": 2, "duplicates": 0}
    orders = pa.table({"id": ["o2", "o3"], "seller": ["m1", "m1"], "amount": ["20.00", "5.00"]})
    assert ledger.apply_many(orders) == {"applied": 1, "duplicates": 1}
    assert len(ledger) == 3
    assert ledger.settlement(lines=False).summary["total_paid"] == fenrun_decimal("3.50")


def test_a_refused_event_raises_and_changes_nothing():
    ledger = fenrun.Ledger(POLICY, {"members": [{"id": "m1"}]})
    ledger.apply({"id": "o1", "seller": "m1", "amount": "10.00"})
    before = ledger.snapshot()
    with pytest.raises(fenrun.InputError) as e:
        ledger.apply({"id": "o1", "seller": "m1", "amount": "11.00"})
    assert (e.value.code, e.value.path) == ("event_conflict", "events[1].id")
    with pytest.raises(fenrun.FormatError) as e:
        ledger.apply({"id": "o2", "seller": "m1", "amount": 1.5})
    assert (e.value.code, e.value.path) == ("float_number", "events[1].amount")
    with pytest.raises(fenrun.FormatError) as e:
        fenrun.Ledger.restore(POLICY, before[:-3])
    assert e.value.code == "invalid_snapshot"
    assert ledger.snapshot() == before
    assert ledger.fingerprint == fingerprint(json.dumps(POLICY))


HELD = {"version": 2, "hold": {"days": 7, "from": "received"},
        "ranks": [{"id": "member", "rate": "0.10"}],
        "rules": [{"id": "spread", "type": "differential"}]}


def test_a_hold_splits_the_tables_as_of_a_time():
    # m1 earns 0.10: o1 100.00 pays 10.00, received 2026-11-02T00:00:00Z, so
    # available 2026-11-09T00:00:00Z; o2 40.00 pays 4.00, never received.
    ledger = fenrun.Ledger(HELD, members=[{"id": "m1"}])
    ledger.apply_many([
        {"id": "o1", "seller": "m1", "amount": "100.00", "at": "2026-11-01T00:00:00Z"},
        {"id": "o2", "seller": "m1", "amount": "40.00", "at": "2026-11-01T01:00:00Z"},
        {"id": "x1", "received": "o1", "at": "2026-11-02T08:00:00+08:00"},
    ])
    s = ledger.settlement(as_of="2026-11-09T00:00:00Z")
    assert s.totals.to_pylist() == [{"member": "m1", "amount": fenrun_decimal("14.00"),
                                     "available": fenrun_decimal("10.00"),
                                     "pending": fenrun_decimal("4.00")}]
    assert s.summary["pending_total"] == fenrun_decimal("4.00")
    assert s.lines.column("available_at").to_pylist() == ["2026-11-09T00:00:00Z", None]
    # A second earlier: nothing is available yet.
    early = ledger.settlement(as_of="2026-11-08T23:59:59Z", lines=False)
    assert early.totals.to_pylist()[0]["available"] == fenrun_decimal("0.00")
    # Without as_of the totals are the net alone.
    assert ledger.settlement().totals.column_names == ["member", "amount"]
    with pytest.raises(fenrun.FormatError) as e:
        ledger.settlement(as_of="2026-11-31T00:00:00Z")
    assert (e.value.code, e.value.path) == ("invalid_value", "as_of")


def test_rank_changes_so_far():
    # m1 owns no group until g1 (150 members >= 100): then an owner.
    ledger = fenrun.Ledger(POLICY, members=[{"id": "m1"}])
    ledger.apply_many(EVENTS[:2])
    assert ledger.rank_changes().num_rows == 0
    ledger.apply(EVENTS[2])
    rows = ledger.rank_changes().to_pylist()
    assert [(r["member"], r["from"], r["to"]) for r in rows] == [("m1", "member", "owner")]
    assert rows[0]["because"][0]["value"] == "150"


def test_immediate_rank_changes_say_after_which_event():
    # SPEC §13: m2 (member, 0.10) sells 120.00 and becomes owner (sales >= 100)
    # after o1; o2 then pays the owner's 0.20: 0.20 x 50.00 = 10.00.
    policy = {
        "version": 2, "rank_timing": "immediate", "evaluate_ranks": True,
        "ranks": [{"id": "member", "rate": "0.10"},
                  {"id": "owner", "rate": "0.20", "upgrade": {"metric": "sales", "gte": "100"}}],
        "rules": [{"id": "spread", "type": "differential"}],
    }
    ledger = fenrun.Ledger(policy, members=[{"id": "m1"}, {"id": "m2", "sponsor": "m1"}])
    ledger.apply({"id": "o1", "seller": "m2", "amount": "120.00"})
    ledger.apply({"id": "o2", "seller": "m2", "amount": "50.00"})
    rows = ledger.rank_changes().to_pylist()
    assert [(r["member"], r["to"], r["after"]) for r in rows] == [("m2", "owner", "o1")]
    s = ledger.settlement()
    assert [str(x) for x in s.lines.column("amount").to_pylist()] == ["12.00", "10.00"]
