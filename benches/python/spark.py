"""Settle generated Parquet data on Spark (fenrun.spark, local[N]) and with
the CLI on the same files, in one run: the time of each Spark phase, the
overhead against one machine, and the results compared to the cent.

    python benches/python/spark.py --members 1000000 --orders 10000000

The CLI writes its document (totals, summary) and its lines to Parquet; Spark
settles, then writes its lines to Parquet, and its totals and summary are
compared with the CLI's. Needs PySpark and a JDK (scripts/test.sh installs both
in target/py-test).
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--partitions", type=int, default=None)
    ap.add_argument("--policy", default=str(REPO / "examples" / "reference-policy.json"))
    ap.add_argument("--cli", default=os.environ.get("FENRUN_CLI", str(REPO / "target" / "release" / "fenrun")))
    ap.add_argument("--work", default=str(REPO / "target" / "spark-bench"))
    ap.add_argument("--results", default=None, help="append the table to this Markdown file")
    args = ap.parse_args()

    work = pathlib.Path(args.work) / f"{args.members}-{args.orders}"
    data = work / "data"
    if not (data / "orders.parquet").exists():
        subprocess.run([args.cli, "gen", "-q", "--members", str(args.members), "--orders", str(args.orders),
                        "--format", "parquet", "--out", str(data)], check=True)

    t0 = time.perf_counter()
    subprocess.run([args.cli, "settle", "-q", "--policy", args.policy,
                    "--members", str(data / "members.parquet"), "--groups", str(data / "groups.parquet"),
                    "--orders", str(data / "orders.parquet"), "--out", str(work / "cli.json"),
                    "--lines-out", str(work / "cli-lines.parquet")], check=True)
    cli_seconds = time.perf_counter() - t0
    doc = json.loads((work / "cli.json").read_text())

    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    import fenrun
    from fenrun.spark import settle

    spark = (SparkSession.builder.master(f"local[{args.cores}]").appName("fenrun-bench")
             .config("spark.ui.enabled", "false").config("spark.driver.memory", "4g")
             .config("spark.sql.shuffle.partitions", str(args.cores * 2)).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    read = lambda name: spark.read.parquet(str(data / f"{name}.parquet"))  # noqa: E731
    t0 = time.perf_counter()
    s = settle(fenrun.Policy.from_file(args.policy), read("members"), read("orders"), read("groups"),
               partitions=args.partitions)
    t1 = time.perf_counter()
    s.lines.write.mode("overwrite").parquet(str(work / "spark-lines"))
    t2 = time.perf_counter()
    totals = {r.member: str(r.amount) for r in s.totals.collect()}
    lines = spark.read.parquet(str(work / "spark-lines")).count()
    cli_lines = spark.read.parquet(str(work / "cli-lines.parquet")).count()
    summary = {k: (None if v is None else (str(v) if not isinstance(v, dict) else {a: str(b) for a, b in v.items()}))
               for k, v in s.summary.items()}
    same = totals == doc["totals"] and summary == doc["summary"] and lines == cli_lines
    spark.stop()

    spark_seconds = t2 - t0
    rows = [f"| phase | seconds |", "|---|---|"]
    for name, sec in s.timings.items():
        rows.append(f"| {name} | {sec:.1f} |")
    rows.append(f"| settle (all phases) | {t1 - t0:.1f} |")
    rows.append(f"| lines written to Parquet | {t2 - t1:.1f} |")
    rows.append(f"| **Spark total** | **{spark_seconds:.1f}** |")
    rows.append(f"| CLI: settle with lines to Parquet | {cli_seconds:.1f} |")
    table = "\n".join(rows)
    head = (f"{args.members:,} members / {args.orders:,} orders, local[{args.cores}], "
            f"{s.partitions} partitions: Spark / CLI = {spark_seconds / cli_seconds:.1f}x; "
            f"{lines:,} lines; totals, summary and line count equal the CLI's: {same}")
    print(head)
    print(table)
    if args.results:
        with open(args.results, "a") as f:
            f.write(f"\n{head}\n\n{table}\n")
    if not same:
        sys.exit("Spark and the CLI disagree")


if __name__ == "__main__":
    main()
