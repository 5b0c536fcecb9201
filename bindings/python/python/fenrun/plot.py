"""Charts of where the money goes, drawn with matplotlib (``pip install fenrun[plot]``).

Every value drawn comes from the core as an exact ``Decimal``: the Lorenz
curve (:meth:`Settlement.lorenz`), the measures (:meth:`Settlement.stats`,
:attr:`Comparison.a` / :attr:`Comparison.b`) and the earnings table
(:attr:`Settlement.earnings`). Each function returns a
``matplotlib.figure.Figure``; save it with ``fig.savefig("chart.png")``.

>>> import fenrun, fenrun.plot
>>> s = fenrun.settle("examples/community-retail/policy.json",
...                   "examples/community-retail/batch.json")
>>> fig = fenrun.plot.lorenz(s)
>>> fig.axes[0].get_title()
'Lorenz curve of member earnings'
"""

from decimal import Decimal
from typing import TYPE_CHECKING, Optional, Sequence, Union

from ._fenrun import Comparison, Settlement

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["lorenz", "payout_by_rank", "earnings_vs_sales"]


def _figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    return fig, fig.add_subplot()


def lorenz(
    *settlements: Settlement, labels: Optional[Sequence[str]] = None, points: int = 100
) -> "Figure":
    """The Lorenz curve of member earnings of one settlement or several (say,
    policy A and policy B on one batch), with the Gini coefficient in the
    legend. The diagonal is equal earnings."""
    if not settlements:
        raise TypeError("lorenz() needs at least one settlement")
    names = list(labels) if labels is not None else [f"policy {chr(65 + i)}" for i in range(len(settlements))]
    if len(names) != len(settlements):
        raise ValueError(f"{len(settlements)} settlements but {len(names)} labels")
    fig, ax = _figure()
    ax.plot([Decimal(0), Decimal(1)], [Decimal(0), Decimal(1)], color="0.6", linestyle="--", label="equal earnings")
    for s, name in zip(settlements, names):
        curve = s.lorenz(points)
        gini = s.stats()["gini"]
        ax.plot([x for x, _ in curve], [y for _, y in curve], label=f"{name} (Gini {gini})")
    ax.set_title("Lorenz curve of member earnings")
    ax.set_xlabel("share of members, lowest earners first")
    ax.set_ylabel("share of the total paid")
    ax.legend(loc="upper left")
    return fig


def payout_by_rank(result: Union[Settlement, Comparison]) -> "Figure":
    """What each rank earns in total: one bar per rank for a settlement, bars
    of policy A beside policy B for a comparison (ranks in ladder order)."""
    fig, ax = _figure()
    if isinstance(result, Comparison):
        sides = [("policy A", result.a["stats"]), ("policy B", result.b["stats"])]
    else:
        sides = [("payout", result.stats())]
    ranks = []
    for _, stats in sides:
        ranks += [r["rank"] for r in stats["by_rank"] if r["rank"] not in ranks]
    width = Decimal(8) / Decimal(10 * len(sides))
    for k, (name, stats) in enumerate(sides):
        total = {r["rank"]: Decimal(r["total"]) for r in stats["by_rank"]}
        offset = (k - Decimal(len(sides) - 1) / 2) * width
        ax.bar([i + offset for i in range(len(ranks))], [total.get(r, Decimal(0)) for r in ranks], width, label=name)
    ax.set_xticks(range(len(ranks)), ranks)
    ax.set_title("Payout by rank")
    ax.set_ylabel("total paid")
    if len(sides) > 1:
        ax.legend()
    return fig


def earnings_vs_sales(settlement: Settlement) -> "Figure":
    """Each member's earnings against its own net sales, coloured by where
    the money comes from: a member far above the 30 % line earns mostly on
    others' sales (团队计酬)."""
    fig, ax = _figure()
    rows = settlement.earnings.to_pylist()
    ax.scatter([r["own_sales"] for r in rows], [r["total"] for r in rows], s=12, label="members")
    top = max((r["own_sales"] for r in rows), default=Decimal(0))
    ax.plot([Decimal(0), top], [Decimal(0), top * Decimal("0.3")], color="0.5", linestyle="--", label="30 % of own sales")
    ax.set_title("Earnings against own sales")
    ax.set_xlabel("own net sales")
    ax.set_ylabel("earnings")
    ax.legend(loc="upper left")
    return fig
