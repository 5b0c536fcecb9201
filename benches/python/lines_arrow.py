"""Python's lines as Arrow against the CLI streaming them to Parquet, one run each.

Python: read the generated Parquet tables with pyarrow, `fenrun.settle(...)` keeping the
lines, then `to_arrow("lines")`; the CLI: `fenrun settle --lines-out L.parquet` as a whole
process. Checks that both have as many lines with the same total, and prints the ratio.

Usage (from the repository root, the wheel installed, the CLI built):
  python benches/python/lines_arrow.py --data target/compare/data-1000000-10000000-1 \
      --cli target/dist/fenrun
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

import fenrun

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="a `fenrun gen --format parquet` directory")
    ap.add_argument("--cli", default=str(REPO / "target" / "release" / "fenrun"))
    ap.add_argument("--policy", default=str(REPO / "benches" / "compare" / "policy.json"))
    a = ap.parse_args()
    data = Path(a.data)
    out = data / "cli-lines.parquet"

    t0 = time.perf_counter()
    subprocess.run([a.cli, "settle", "--policy", a.policy,
                    f"--members={data / 'members.parquet'}", f"--orders={data / 'orders.parquet'}",
                    f"--lines-out={out}", f"--out={data / 'cli-lines.json'}"],
                   check=True, capture_output=True)
    cli = time.perf_counter() - t0
    cli_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    t0 = time.perf_counter()
    policy = fenrun.Policy.from_file(a.policy)
    tables = {t: pq.read_table(data / f"{t}.parquet") for t in ("members", "orders")}
    t1 = time.perf_counter()
    s = fenrun.settle(policy, **tables)
    t2 = time.perf_counter()
    lines = s.to_arrow("lines")
    t3 = time.perf_counter()
    py_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    cli_lines = pq.read_table(out, columns=["amount"])
    assert cli_lines.num_rows == lines.num_rows, (cli_lines.num_rows, lines.num_rows)
    assert pc.sum(cli_lines["amount"]).as_py() == pc.sum(lines["amount"]).as_py()
    py = t3 - t0
    print(f"{lines.num_rows} lines, the same total on both sides")
    print(f"CLI --lines-out (whole process): {cli:.2f} s, peak {cli_rss:.0f} MiB")
    print(f"Python read {t1 - t0:.2f} s + settle {t2 - t1:.2f} s + to_arrow {t3 - t2:.2f} s "
          f"= {py:.2f} s, peak {py_rss:.0f} MiB")
    print(f"Python / CLI: {py / cli:.2f}x")


if __name__ == "__main__":
    main()
