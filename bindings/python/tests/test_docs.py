"""Every docstring example of the package runs, and so does every Python
block of docs/python.md (in order, as one session, from the repository root)."""

import doctest
import inspect
import os
import re

import pytest

import fenrun
from conftest import REPO


def docstrings():
    import fenrun.plot

    yield "fenrun", fenrun.__doc__
    yield "fenrun.plot", fenrun.plot.__doc__
    for name in fenrun.plot.__all__:
        yield f"fenrun.plot.{name}", getattr(fenrun.plot, name).__doc__
    for name in fenrun.__all__:
        obj = getattr(fenrun, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            continue
        if getattr(obj, "__doc__", None) and (inspect.isclass(obj) or callable(obj)):
            yield name, obj.__doc__
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and getattr(member, "__doc__", None):
                    yield f"{name}.{attr}", member.__doc__


EXAMPLES = [(n, d) for n, d in docstrings() if ">>>" in d]


@pytest.mark.parametrize("name,doc", EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_docstring_examples(name, doc, monkeypatch):
    monkeypatch.chdir(REPO)
    parser = doctest.DocTestParser()
    test = parser.get_doctest(doc, {"fenrun": fenrun}, name, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


def test_enough_examples():
    assert len(EXAMPLES) >= 6


def test_python_md_runs(monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    text = (REPO / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    chart = REPO / "target" / "payout-by-rule.png"
    chart.unlink(missing_ok=True)
    scope = {"__name__": "docs"}
    ran = 0
    for block in blocks:
        if block.lstrip().startswith("# not run"):
            continue
        exec(compile(block, "docs/python.md", "exec"), scope)
        ran += 1
    # Every block but the one that needs generated data ran, and the plot was drawn: a block
    # cannot skip itself (no `try: import … except ImportError`).
    assert ran == len(blocks) - 1
    assert "except ImportError" not in text
    assert chart.stat().st_size > 0


def test_analysts_md_runs(monkeypatch):
    """docs/analysts.md's Python block runs as written and draws the three charts it shows."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    text = (REPO / "docs" / "analysts.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    images = [REPO / "docs" / "images" / f"{n}.png" for n in ("lorenz", "payout-by-rank", "earnings-vs-sales")]
    before = {p: p.stat().st_mtime_ns if p.exists() else None for p in images}
    exec(compile(blocks[0], "docs/analysts.md", "exec"), {"__name__": "docs"})
    for p in images:
        assert p.stat().st_size > 0 and p.stat().st_mtime_ns != before[p], p
        assert f"(images/{p.name})" in text
