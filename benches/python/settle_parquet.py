"""Settle generated Parquet data through Python (pyarrow → fenrun) and through
the CLI on the same files, in one run, and report the ratio.

    python benches/python/settle_parquet.py --members 1000000 --orders 10000000

The Python figure is the Parquet read by pyarrow plus
`fenrun.settle(policy, lines=False, **tables)` on the tables: Arrow import,
conversion, validation, ranks and settlement. The CLI's matching figure is the
sum of its read+validate (it reads the orders a chunk at a time, validating
each as it comes), ranks and settle phases (`--timings`): both include the
Parquet read, neither the output. Both results are compared to the cent.
Medians over --runs.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

import pyarrow.parquet as pq

import fenrun

REPO = pathlib.Path(__file__).resolve().parents[2]
TABLES = ("members", "groups", "orders")
CORE_PHASES = ("read+validate", "ranks", "settle")


def cli_run(cli, policy, data, out):
    args = [cli, "--timings", "settle", "--policy", str(policy), "--no-lines", "--out", str(out)]
    for t in TABLES:
        args += [f"--{t}", str(data / f"{t}.parquet")]
    t0 = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"CLI failed: {p.stderr}")
    phases = {}
    for line in p.stderr.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "timing":
            phases[parts[1]] = float(parts[2])
    return wall, phases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=pathlib.Path, default=None)
    ap.add_argument("--policy", type=pathlib.Path, default=REPO / "benches" / "compare" / "policy.json")
    ap.add_argument("--cli", default=os.environ.get("FENRUN_CLI", str(REPO / "target" / "dist" / "fenrun")))
    ap.add_argument("--results", type=pathlib.Path, default=None)
    a = ap.parse_args()

    data = a.data or REPO / "target" / "bench-data" / f"{a.members}-{a.orders}-{a.seed}"
    if not (data / "orders.parquet").is_file():
        data.mkdir(parents=True, exist_ok=True)
        subprocess.run([a.cli, "gen", "--members", str(a.members), "--orders", str(a.orders),
                        "--seed", str(a.seed), "--out", str(data), "--format", "parquet"], check=True)
    out = data / "cli-settlement.json"
    policy = fenrun.Policy.from_file(a.policy)

    cli_core, cli_wall, py_read, py_settle = [], [], [], []
    for _ in range(a.runs):
        wall, phases = cli_run(a.cli, a.policy, data, out)
        cli_wall.append(wall)
        cli_core.append(sum(phases.get(p, 0.0) for p in CORE_PHASES))
        cli_phases = phases
        t0 = time.perf_counter()
        tables = {t: pq.read_table(data / f"{t}.parquet") for t in TABLES}
        t1 = time.perf_counter()
        s = fenrun.settle(policy, lines=False, **tables)
        t2 = time.perf_counter()
        py_read.append(t1 - t0)
        py_settle.append(t2 - t1)
        del tables

    rust = json.loads(out.read_text())
    same = rust["totals"] == json.loads(s.to_json())["totals"] and rust["summary"] == json.loads(s.to_json())["summary"]
    med = statistics.median
    py_core = [r + t for r, t in zip(py_read, py_settle)]
    ratio = med(py_core) / med(cli_core)
    report = "\n".join([
        f"# Python vs CLI, {a.members:,} members / {a.orders:,} orders (seed {a.seed}), medians of {a.runs}",
        "",
        "| | seconds |",
        "| --- | --- |",
        f"| CLI whole process (read and validate, ranks, settle, write) | {med(cli_wall):.2f} |",
        f"| CLI core: read+validate + ranks + settle | {med(cli_core):.2f} |",
        f"| … of which read+validate (orders read and validated a chunk at a time) | {cli_phases.get('read+validate', 0):.2f} |",
        f"| Python: pyarrow Parquet read | {med(py_read):.2f} |",
        f"| Python: fenrun.settle on the tables (Arrow import, convert, validate, ranks, settle) | {med(py_settle):.2f} |",
        f"| Python core: read + settle | {med(py_core):.2f} |",
        "",
        f"Python / CLI core = **{ratio:.2f}×**; totals and summary equal to the cent: {same}.",
        f"fenrun {fenrun.__version__}, Python {sys.version.split()[0]}.",
    ])
    print(report)
    if a.results:
        a.results.parent.mkdir(parents=True, exist_ok=True)
        a.results.write_text(report + "\n")
    if not same:
        sys.exit("Python and CLI settlements differ")


if __name__ == "__main__":
    main()
