"""The shop-system examples (examples/yudao, examples/crmeb) through the Python
API: the hand-worked settlement, the split as of a time, and the comparison
with fenrun's defaults, as crates/fenrun-testkit/tests/example.rs checks them."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

import fenrun

REPO = Path(__file__).resolve().parents[3]

# Each member's total under the example's defaults-policy.json, worked in its README.
DEFAULTS = {
    "yudao": {"p1": "15.50", "p2": "23.00", "p4": "0.00"},
    "crmeb": {"s1": "4.67", "s2": "5.33", "s4": "2.40"},
}


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_shop_system_example(name):
    d = REPO / "examples" / name
    policy, batch = (d / "policy.json").read_text(), (d / "batch.json").read_text()
    doc = json.loads(fenrun.settle(policy, batch).to_json())
    for key, want in json.loads((d / "expected.json").read_text()).items():
        assert doc[key] == want, f"{name}: {key}"
    at = json.loads((d / "as-of.json").read_text())
    split = fenrun.settle(policy, batch, as_of=at["as_of"])
    assert json.loads(split.to_json())["totals"] == at["totals"]
    assert split.summary["pending_total"] == Decimal(at["pending_total"])
    compared = fenrun.compare(policy, (d / "defaults-policy.json").read_text(), batch)
    rows = {r["member"]: r for r in json.loads(compared.to_json())["members"]}
    for member, total in DEFAULTS[name].items():
        assert rows[member]["total_b"] == total
