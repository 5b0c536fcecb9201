"""Type stubs of the native module; tests/test_stubs.py checks they match it."""

import os
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Type, Union

import pyarrow
from typing_extensions import NotRequired, TypedDict

if TYPE_CHECKING:
    import pandas
    import polars

__version__: str
ERROR_CODES: Tuple[str, ...]

PathLike = Union[str, "os.PathLike[str]"]
# A JSON document: a dict, JSON text, or a path to a JSON file.
Document = Union[Mapping[str, Any], str, bytes, "os.PathLike[str]"]
# A table: any object with __arrow_c_stream__ (pyarrow, polars, pandas, DuckDB, ...)
# or __arrow_c_array__, or a list of dicts.
TableLike = Union[Any, Sequence[Mapping[str, Any]]]
# The name of one of a settlement's tables.
TableName = Literal["lines", "totals", "rank_changes"]
# A compliance profile of the lint.
Profile = Literal["cn-distribution", "cn-direct-selling", "ftc"]

class Summary(TypedDict):
    """The §9 summary, every amount a Decimal."""

    net_sales: Decimal
    total_paid: Decimal
    payout_ratio: Optional[Decimal]  # None without sales
    breakage: Dict[str, Decimal]  # by pool rule
    cap_cut: Decimal
    member_cap_cut: NotRequired[Decimal]  # only when the policy has a member cap

class FenrunError(Exception):
    code: str
    family: str
    path: str
    message: str

class FormatError(FenrunError): ...
class PolicyError(FenrunError): ...
class InputError(FenrunError): ...
class LimitError(FenrunError): ...
class ArithmeticError(FenrunError): ...
class OutputError(FenrunError): ...
class InternalError(FenrunError): ...

class Policy:
    @staticmethod
    def from_json(text: str) -> Policy: ...
    @staticmethod
    def from_file(path: PathLike) -> Policy: ...
    @staticmethod
    def from_dict(policy: Mapping[str, Any]) -> Policy: ...
    def validate(self) -> None: ...
    @property
    def scale(self) -> int: ...
    @property
    def rounding(self) -> str: ...
    @property
    def ranks(self) -> List[str]: ...
    @property
    def rules(self) -> List[str]: ...
    @property
    def currency(self) -> Optional[str]: ...

class Settlement:
    @property
    def lines(self) -> pyarrow.Table: ...
    @property
    def totals(self) -> pyarrow.Table: ...
    @property
    def rank_changes(self) -> pyarrow.Table: ...
    @property
    def summary(self) -> Summary: ...
    def total_of(self, member: str) -> Optional[Decimal]: ...
    def to_json(self) -> str: ...
    def explain(self, order_id: str) -> List[str]: ...
    def to_arrow(self, table: TableName = "totals") -> pyarrow.Table: ...
    def to_pandas(self, table: TableName = "totals") -> "pandas.DataFrame": ...
    def to_polars(self, table: TableName = "totals") -> "polars.DataFrame": ...
    def _repr_html_(self) -> str: ...
    def stats(self) -> Dict[str, Any]: ...
    def lint(self, profile: Profile) -> Dict[str, Any]: ...

class RankEvaluation:
    @property
    def rank_changes(self) -> pyarrow.Table: ...
    def rank_of(self, member: str) -> Optional[str]: ...
    def is_active(self, member: str) -> Optional[bool]: ...
    def to_json(self) -> str: ...

def settle(
    policy: Union[Policy, Document],
    batch: Optional[Document] = None,
    *,
    members: Optional[TableLike] = None,
    orders: Optional[TableLike] = None,
    groups: Optional[TableLike] = None,
    refunds: Optional[TableLike] = None,
    lines: bool = True,
    round_float_money: bool = False,
    progress: Union[None, bool, Callable[[int, int], object]] = None,
) -> Settlement: ...
def evaluate_ranks(
    policy: Union[Policy, Document],
    batch: Optional[Document] = None,
    *,
    members: Optional[TableLike] = None,
    orders: Optional[TableLike] = None,
    groups: Optional[TableLike] = None,
    refunds: Optional[TableLike] = None,
    round_float_money: bool = False,
) -> RankEvaluation: ...
def compare(
    policy_a: Union[Policy, Document],
    policy_b: Union[Policy, Document],
    batch: Optional[Document] = None,
    *,
    members: Optional[TableLike] = None,
    orders: Optional[TableLike] = None,
    groups: Optional[TableLike] = None,
    refunds: Optional[TableLike] = None,
    round_float_money: bool = False,
) -> Dict[str, Any]: ...
def lint(policy: Union[Policy, Document], profile: Profile) -> Dict[str, Any]: ...
def error_class(code: str) -> Type[FenrunError]: ...
