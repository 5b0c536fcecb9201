"""fenrun (分润): exact, explainable profit splits for community retail.

A policy declares ranks (member → 群主 group owner → 团长 team leader →
合伙人 partner), their upgrade conditions and the rules that pay on each
sale; :func:`settle` applies it to a batch of members, groups, orders and
refunds, to the cent, with every payout line explained. Money is
``decimal.Decimal`` (or Arrow decimal128) in and out, never ``float``.

>>> import fenrun
>>> policy = fenrun.Policy.from_file("examples/community-retail/policy.json")
>>> s = fenrun.settle(policy, "examples/community-retail/batch.json")
>>> s.summary["total_paid"]
Decimal('66147.00')

The computation is the Rust core's: the same inputs give the same bytes as
the ``fenrun`` command line and the WebAssembly package.
"""

from ._fenrun import (
    ERROR_CODES,
    ArithmeticError,
    Comparison,
    FenrunError,
    FormatError,
    InputError,
    InternalError,
    Ledger,
    LimitError,
    OutputError,
    Policy,
    PolicyError,
    RankEvaluation,
    Settlement,
    Spread,
    __version__,
    compare,
    error_class,
    evaluate_ranks,
    lint,
    settle,
)

__all__ = [
    "ERROR_CODES",
    "ArithmeticError",
    "Comparison",
    "FenrunError",
    "FormatError",
    "InputError",
    "InternalError",
    "Ledger",
    "LimitError",
    "OutputError",
    "Policy",
    "PolicyError",
    "RankEvaluation",
    "Settlement",
    "Spread",
    "__version__",
    "compare",
    "error_class",
    "evaluate_ranks",
    "lint",
    "settle",
]
