"""Error classes: one per family of the core, carrying its code, path and message."""

import json

import pyarrow as pa
import pytest

import fenrun

FAMILY_CLASSES = {
    "format": fenrun.FormatError,
    "policy": fenrun.PolicyError,
    "input": fenrun.InputError,
    "limit": fenrun.LimitError,
    "arithmetic": fenrun.ArithmeticError,
    "output": fenrun.OutputError,
    "internal": fenrun.InternalError,
}

POLICY = {"version": 1, "ranks": [{"id": "member"}, {"id": "group_owner", "rate": "0.10"}],
          "rules": [{"id": "spread", "type": "differential"}]}
MEMBERS = [{"id": "m1", "rank": "group_owner"}, {"id": "m2", "sponsor": "m1"}]


def test_every_core_code_has_a_class_below_the_base():
    assert len(fenrun.ERROR_CODES) >= 40
    seen = set()
    for code in fenrun.ERROR_CODES:
        cls = fenrun.error_class(code)
        assert issubclass(cls, fenrun.FenrunError) and cls is not fenrun.FenrunError, code
        assert cls in FAMILY_CLASSES.values(), code
        seen.add(cls)
    assert seen == set(FAMILY_CLASSES.values())
    assert fenrun.error_class("internal") is fenrun.InternalError
    with pytest.raises(ValueError):
        fenrun.error_class("no_such_code")


def test_docs_list_every_code_python_can_raise():
    from conftest import REPO
    doc = (REPO / "docs" / "python.md").read_text()
    for name in ["FenrunError", *[c.__name__ for c in FAMILY_CLASSES.values()], "InternalError"]:
        assert f"`{name}`" in doc, name


MAX = "79228162514264337593543950335"  # the largest exact decimal


@pytest.mark.parametrize("cls,code,path,call", [
    (fenrun.FormatError, "invalid_json", "policy: line 1 column 2",
     lambda: fenrun.Policy.from_json("{not json")),
    (fenrun.FormatError, "invalid_json", "batch: line 1 column 13",
     lambda: fenrun.settle(POLICY, '{"members": ]}')),
    (fenrun.PolicyError, "no_ranks", "ranks",
     lambda: fenrun.Policy.from_dict({"version": 1, "ranks": []})),
    (fenrun.InputError, "self_sponsor", "members[0].sponsor",
     lambda: fenrun.settle(POLICY, {"members": [{"id": "m1", "sponsor": "m1"}], "events": []})),
    (fenrun.LimitError, "limit_exceeded", "rules[0].rates",
     lambda: fenrun.Policy.from_dict({**POLICY, "rules": [
         {"id": "x", "type": "levels", "rates": ["0.01"] * 33}]})),
    # m1's sales: MAX + MAX overflows at the second order.
    (fenrun.ArithmeticError, "arithmetic_overflow", "events[1].amount",
     lambda: fenrun.settle(POLICY, {"members": [{"id": "m1"}], "events": [
         {"id": "o1", "seller": "m1", "amount": MAX}, {"id": "o2", "seller": "m1", "amount": MAX}]})),
])
def test_each_family_raises_its_class(cls, code, path, call):
    with pytest.raises(fenrun.FenrunError) as e:
        call()
    err = e.value
    assert type(err) is cls
    assert (err.code, err.path) == (code, path)
    assert fenrun.error_class(code) is cls
    assert FAMILY_CLASSES[err.family] is cls
    assert err.message == str(err)
    assert str(err).startswith(err.path)


def test_error_names_record_and_field():
    with pytest.raises(fenrun.InputError) as e:
        fenrun.settle(POLICY, {"members": MEMBERS, "events": [
            {"id": "o1", "seller": "m2", "amount": "10"},
            {"id": "r1", "refund_of": "o1", "amount": "11"}]})
    assert (e.value.code, e.value.path) == ("over_refund", "events[1].amount")


def test_python_floats_are_money_errors_with_the_path():
    with pytest.raises(fenrun.FormatError) as e:
        fenrun.settle(POLICY, members=MEMBERS, orders=[{"id": "o1", "seller": "m2", "amount": 12.5}])
    assert (e.value.code, e.value.path) == ("float_number", "orders[0].amount")
    # A Python float is called a float, as Python writes it, not "the JSON number 63000".
    with pytest.raises(fenrun.FormatError) as e:
        fenrun.settle(POLICY, {"members": MEMBERS, "events": [
            {"id": "o1", "seller": "m2", "amount": 63000.0}]})
    assert (e.value.code, e.value.path) == ("float_number", "events[0].amount")
    assert "a float (63000.0)" in e.value.message
    # The same number in JSON text is the JSON number it is written as.
    with pytest.raises(fenrun.FormatError) as e:
        fenrun.settle(POLICY, '{"members": [{"id": "m1"}], "events": '
                              '[{"id": "o1", "seller": "m1", "amount": 63000.5}]}')
    assert "the JSON number 63000.5" in e.value.message


def test_a_json_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text('{"version": 1,\n "ranks": [}')
    with pytest.raises(fenrun.FormatError) as e:
        fenrun.Policy.from_file(path)
    assert e.value.path == f"{path}: line 2 column 12"
    batch = tmp_path / "batch.json"
    batch.write_text('{"members": [],\n "events": [}')
    with pytest.raises(fenrun.FormatError) as e:
        fenrun.settle(POLICY, batch)
    assert e.value.path == f"{batch}: line 2 column 13"


def test_float_money_columns_need_the_opt_in():
    orders = pa.table({"id": ["o1", "o2"], "seller": ["m2", "m2"], "amount": [0.1 + 0.2, 2.675]})
    with pytest.raises(fenrun.FormatError) as e:
        fenrun.settle(POLICY, members=MEMBERS, orders=orders)
    assert (e.value.code, e.value.path) == ("float_number", "orders.amount")
    # The message names the ways out.
    assert "round_float_money=True" in e.value.message
    assert "DECIMAL(18, 2)" in e.value.message
    s = fenrun.settle(POLICY, members=MEMBERS, orders=orders, round_float_money=True)
    # 0.30000000000000004 → 0.30 and 2.675 (shortest form) → 2.68; m1 earns
    # 0.10 × 0.30 = 0.03 and 0.10 × 2.68 = 0.268 → 0.27: 0.30.
    assert str(s.summary["net_sales"]) == "2.98"
    assert str(s.total_of("m1")) == "0.30"


def test_wrong_arguments_are_type_errors_not_fenrun_errors():
    with pytest.raises(TypeError):
        fenrun.settle(POLICY)
    with pytest.raises(TypeError):
        fenrun.settle(POLICY, {"members": [], "events": []}, members=MEMBERS)
    with pytest.raises(TypeError):
        fenrun.settle(POLICY, members=MEMBERS)
    with pytest.raises(TypeError):
        fenrun.settle(POLICY, members=MEMBERS, orders=42)
    with pytest.raises(TypeError):
        fenrun.settle(POLICY, {"members": [{"id": object()}], "events": []})
    with pytest.raises(FileNotFoundError):
        fenrun.settle(POLICY, "no/such/batch.json")


def test_an_invalid_policy_is_reported_when_built():
    bad = {"version": 1, "ranks": [{"id": "member"}], "rules": [
        {"id": "x", "type": "levels", "rates": ["0.1"], "min_rank": "ghost"}]}
    for build in (lambda: fenrun.Policy.from_dict(bad),
                  lambda: fenrun.Policy.from_json(json.dumps(bad)),
                  lambda: fenrun.settle(bad, {"members": MEMBERS, "events": []})):
        with pytest.raises(fenrun.PolicyError) as e:
            build()
        assert (e.value.code, e.value.path) == ("unknown_rank", "rules[0].min_rank")


def test_decimal_objects_are_read_by_their_digits():
    # Decimal("1E+2") is 100: the binding hands the core "100", and m1 earns 0.10 × 100 = 10.00.
    import decimal
    s = fenrun.settle(POLICY, members=MEMBERS,
                      orders=[{"id": "o1", "seller": "m2", "amount": decimal.Decimal("1E+2")}])
    assert str(s.total_of("m1")) == "10.00"
