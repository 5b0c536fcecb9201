"""Side-by-side comparison: fenrun CLI vs DuckDB SQL vs pandas/numpy.

One run, the same generated Parquet files, each engine as a whole process from
the Parquet files to a totals file, on the workload all three can express
(`benches/compare/policy.json`):

  * `levels` 0.10 / 0.05 / 0.02: the seller, its sponsor, the sponsor's sponsor
    (no rank filter; every generated member is active);
  * `differential` over four fixed ranks (0 / 0.10 / 0.15 / 0.20): walking up
    from the seller, each member whose rate beats what was paid so far earns
    the difference;
  * half_up at 2 decimals, per line, on the order amount;
  * refunds: the generator gives an order at most one refund, partial or full;
    a partial refund reverses round(line x refund / order) of each line, a full
    one the whole line (SPEC 6.2).

DuckDB and pandas compute in integer cents (exact): a line is
(2 x rate_bp x cents + 10000) // 20000 (half up of rate_bp x cents / 10000),
a partial reversal (2 x line x refund + order) // (2 x order). The upline
schedule ("nearest ancestor-or-self whose rate beats t") is built by pointer
doubling, in SQL and in numpy alike, so no engine walks a deep chain per order.

Usage (from the repository root):
  python benches/compare/compare.py [--members 1000000] [--orders 10000000]
      [--runs 3] [--seed 1]
It builds fenrun (the dist profile, as shipped), generates the data once under target/compare/,
runs each engine --runs times (median), checks the totals are equal to the
cent, and writes benches/compare/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
POLICY = HERE / "policy.json"
RATES_BP = {"member": 0, "group_owner": 1000, "team_leader": 1500, "partner": 2000}
LEVELS_BP = [1000, 500, 200]


# --------------------------------------------------------------------------- DuckDB

def duckdb_schedules(data: Path):
    """A DuckDB connection holding `mem` (members by index, with rates), `up`
    and `sched2` (each seller's beneficiaries), and `ev` (events in cents)."""
    import duckdb

    con = duckdb.connect()
    m, o = data / "members.parquet", data / "orders.parquet"
    rate_case = "CASE rank " + " ".join(
        f"WHEN '{k}' THEN {v}" for k, v in RATES_BP.items() if v) + " ELSE 0 END"
    con.execute(f"""
        CREATE TABLE mem AS
        SELECT row_number() OVER () - 1 AS ix, id, sponsor, {rate_case} AS rate
        FROM read_parquet('{m}')""")
    con.execute("""
        CREATE TABLE mp AS
        SELECT a.ix, a.rate, b.ix AS parent FROM mem a LEFT JOIN mem b ON a.sponsor = b.id""")
    # p_t(m): nearest ancestor-or-self with rate > t, by pointer doubling.
    thresholds = [0, 1000, 1500]
    cols = ", ".join(
        f"CASE WHEN rate > {t} THEN ix ELSE parent END AS p{t}" for t in thresholds)
    con.execute(f"CREATE TABLE up AS SELECT ix, rate, parent, {cols} FROM mp")
    while True:
        sets = []
        joins = []
        for t in thresholds:
            joins.append(f"LEFT JOIN up j{t} ON u.p{t} = j{t}.ix")
            sets.append(
                f"CASE WHEN u.p{t} IS NULL OR j{t}.rate > {t} THEN u.p{t} ELSE j{t}.p{t} END AS p{t}")
        con.execute(f"""
            CREATE OR REPLACE TABLE up2 AS
            SELECT u.ix, u.rate, u.parent, {', '.join(sets)}
            FROM up u {' '.join(joins)}""")
        changed = con.execute(" OR ".join(
            [f"a.p{t} IS DISTINCT FROM b.p{t}" for t in thresholds]).join(
            ["SELECT count(*) FROM up a JOIN up2 b USING (ix) WHERE ", ""])).fetchone()[0]
        con.execute("DROP TABLE up; ALTER TABLE up2 RENAME TO up")
        if changed == 0:
            break
    # Differential schedule per seller: up to three (beneficiary, rate step).
    # b1 = p0(seller); b(k+1) = p_paid(parent(bk)) while paid is 0.10 or 0.15.
    nxt = "CASE s.{paid} WHEN 1000 THEN q.p1000 WHEN 1500 THEN q.p1500 END"
    con.execute("""
        CREATE TABLE s1 AS
        SELECT u.ix AS seller, u.parent AS par1, u.p0 AS b1, coalesce(r.rate, 0) AS paid1
        FROM up u LEFT JOIN up r ON r.ix = u.p0""")
    for k in (1, 2):
        con.execute(f"""
            CREATE TABLE s{k + 1} AS
            SELECT s.*, {nxt.format(paid=f'paid{k}')} AS b{k + 1},
                   coalesce(r.rate, s.paid{k}) AS paid{k + 1}
            FROM s{k} s LEFT JOIN up b ON b.ix = s.b{k}
            LEFT JOIN up q ON q.ix = b.parent
            LEFT JOIN up r ON r.ix = {nxt.format(paid=f'paid{k}')}""")
    con.execute("""
        CREATE TABLE sched2 AS
        SELECT s.seller, s.par1, g.parent AS par2, s.b1, s.paid1 AS d1,
               s.b2, s.paid2 - s.paid1 AS d2, s.b3, s.paid3 - s.paid2 AS d3
        FROM s3 s LEFT JOIN up g ON g.ix = s.par1""")
    # Orders and their (at most one) refund, in cents.
    con.execute(f"""
        CREATE TABLE ev AS
        SELECT id, coalesce(seller, buyer) AS seller_id, refund_of,
               CAST(amount * 100 AS BIGINT) AS cents
        FROM read_parquet('{o}')""")
    return con


def run_duckdb(data: Path, out: Path) -> None:
    con = duckdb_schedules(data)
    con.execute("""
        CREATE TABLE ord AS
        SELECT e.id, m.ix AS seller, e.cents, coalesce(r.cents, 0) AS refunded
        FROM ev e JOIN mem m ON m.id = e.seller_id
        LEFT JOIN ev r ON r.refund_of = e.id
        WHERE e.refund_of IS NULL""")
    line = "(2 * {r} * o.cents + 10000) // 20000"
    parts = [
        ("s.seller", LEVELS_BP[0]), ("s.par1", LEVELS_BP[1]), ("s.par2", LEVELS_BP[2])]
    selects = [
        f"SELECT {who} AS ix, {line.format(r=bp)} AS cents, o.cents AS oc, o.refunded "
        f"FROM ord o JOIN sched2 s ON s.seller = o.seller WHERE {who} IS NOT NULL"
        for who, bp in parts]
    for b, d in [("b1", "d1"), ("b2", "d2"), ("b3", "d3")]:
        selects.append(
            f"SELECT s.{b} AS ix, {line.format(r='s.' + d)} AS cents, o.cents AS oc, o.refunded "
            f"FROM ord o JOIN sched2 s ON s.seller = o.seller "
            f"WHERE s.{b} IS NOT NULL AND s.{d} > 0")
    con.execute(f"""
        CREATE TABLE totals AS
        SELECT m.id AS member, sum(l.cents - CASE WHEN l.refunded = 0 THEN 0
                                        WHEN l.refunded = l.oc THEN l.cents
                                        ELSE (2 * l.cents * l.refunded + l.oc) // (2 * l.oc) END)
                 AS cents
        FROM ({' UNION ALL '.join(selects)}) l JOIN mem m ON m.ix = l.ix
        WHERE l.cents > 0
        GROUP BY m.id""")
    con.execute(f"""
        COPY (SELECT member,
                     (cents // 100)::VARCHAR || '.' || lpad((cents % 100)::VARCHAR, 2, '0')
                       AS amount
              FROM totals ORDER BY member) TO '{out}' (HEADER, DELIMITER ',')""")


def run_duckdb_lines(data: Path, out: Path) -> None:
    """The same lines as fenrun's `--lines-out`, to Parquet: an order line
    per paying slot, and a reversal line per line of a refunded order
    (round(line x refund / order), the whole line for a full refund), ids as
    text, money as DECIMAL(38, 2). The differential's `level` is its step
    (1 to 3) rather than the distance from the seller, a lighter column."""
    con = duckdb_schedules(data)
    con.execute("""
        CREATE TABLE ord AS
        SELECT e.id, m.ix AS seller, e.cents, r.id AS refund_id, coalesce(r.cents, 0) AS refunded
        FROM ev e JOIN mem m ON m.id = e.seller_id
        LEFT JOIN ev r ON r.refund_of = e.id
        WHERE e.refund_of IS NULL""")
    line = "(2 * {r} * o.cents + 10000) // 20000"
    cols = ("o.id AS order_id, o.refund_id, '{rule}' AS rule, '{kind}' AS kind, {who} AS ix, "
            "{level} AS level, o.cents AS oc, {r} AS bp, {line} AS cents, o.refunded")
    selects = [
        f"SELECT {cols.format(rule='dist', kind='levels', who=who, level=k, r=bp, line=line.format(r=bp))} "
        f"FROM ord o JOIN sched2 s ON s.seller = o.seller WHERE {who} IS NOT NULL"
        for k, (who, bp) in enumerate(zip(("s.seller", "s.par1", "s.par2"), LEVELS_BP))]
    for k, (b, d) in enumerate([("s.b1", "s.d1"), ("s.b2", "s.d2"), ("s.b3", "s.d3")], 1):
        selects.append(
            f"SELECT {cols.format(rule='spread', kind='differential', who=b, level=k, r=d, line=line.format(r=d))} "
            f"FROM ord o JOIN sched2 s ON s.seller = o.seller WHERE {b} IS NOT NULL AND {d} > 0")
    money = "CAST({} AS DECIMAL(36, 0)) * CAST(0.01 AS DECIMAL(2, 2))"
    rate = "CAST(l.bp AS DECIMAL(36, 0)) * CAST(0.0001 AS DECIMAL(4, 4))"
    rev = ("CASE WHEN l.refunded = l.oc THEN l.cents "
           "ELSE (2 * l.cents * l.refunded + l.oc) // (2 * l.oc) END")
    con.execute(f"""
        COPY (
          WITH l AS (SELECT * FROM ({' UNION ALL '.join(selects)}) WHERE cents > 0)
          SELECT l.order_id AS "order", NULL::VARCHAR AS refund, l.rule, l.kind,
                 m.id AS beneficiary, l.level, {money.format('l.oc')} AS base, {rate} AS rate,
                 {money.format('l.cents')} AS amount
          FROM l JOIN mem m ON m.ix = l.ix
          UNION ALL
          SELECT l.order_id, l.refund_id, l.rule, l.kind, m.id, l.level,
                 {money.format('l.refunded')}, {rate}, {money.format('-(' + rev + ')')}
          FROM l JOIN mem m ON m.ix = l.ix
          WHERE l.refunded > 0 AND ({rev}) <> 0
        ) TO '{out}' (FORMAT PARQUET)""")


# --------------------------------------------------------------------------- pandas

def run_pandas(data: Path, out: Path) -> None:
    import numpy as np
    import pandas as pd

    mem = pd.read_parquet(data / "members.parquet", columns=["id", "sponsor", "rank"])
    ids = pd.Index(mem["id"])
    parent = ids.get_indexer(mem["sponsor"])  # -1 for a root
    rate = mem["rank"].map(RATES_BP).fillna(0).to_numpy(np.int64)
    n = len(ids)
    ix = np.arange(n)

    def nearest(t: int) -> np.ndarray:
        p = np.where(rate > t, ix, parent)
        while True:
            ok = (p < 0) | (rate[np.maximum(p, 0)] > t)
            nxt = np.where(ok, p, p[np.maximum(p, 0)])
            if np.array_equal(nxt, p):
                return p
            p = nxt

    up = {t: nearest(t) for t in (0, 1000, 1500)}
    par1 = parent
    par2 = np.where(par1 >= 0, parent[np.maximum(par1, 0)], -1)
    # Differential schedule per seller.
    b1 = up[0]
    paid1 = np.where(b1 >= 0, rate[np.maximum(b1, 0)], 0)

    def step(b: np.ndarray, paid: np.ndarray) -> np.ndarray:
        par = np.where(b >= 0, parent[np.maximum(b, 0)], -1)
        out_ = np.full(n, -1)
        for t in (1000, 1500):
            sel = (paid == t) & (par >= 0)
            out_[sel] = up[t][par[sel]]
        return out_

    b2 = step(b1, paid1)
    paid2 = np.where(b2 >= 0, rate[np.maximum(b2, 0)], paid1)
    b3 = step(b2, paid2)
    paid3 = np.where(b3 >= 0, rate[np.maximum(b3, 0)], paid2)
    sched = [(par1 * 0 + ix, np.full(n, LEVELS_BP[0])), (par1, np.full(n, LEVELS_BP[1])),
             (par2, np.full(n, LEVELS_BP[2])), (b1, paid1), (b2, paid2 - paid1),
             (b3, paid3 - paid2)]

    ev = pd.read_parquet(data / "orders.parquet", columns=["id", "seller", "buyer", "amount",
                                                          "refund_of"], dtype_backend="pyarrow")
    is_ref = ev["refund_of"].notna().to_numpy()
    # Exact: decimal128 x 100 is a whole number of cents, cast without rounding.
    cents = (ev["amount"] * 100).astype("int64[pyarrow]").to_numpy(np.int64)
    orders = ev[~is_ref]
    ocents = cents[~is_ref]
    seller = ids.get_indexer(orders["seller"].fillna(orders["buyer"]).astype(object))
    refunded = np.zeros(len(orders), np.int64)
    oix = pd.Index(orders["id"].astype(object)).get_indexer(ev["refund_of"][is_ref].astype(object))
    refunded[oix] = cents[is_ref]
    bens, amts = [], []
    for who, bp in sched:
        b = who[seller]
        r = bp[seller]
        line = (2 * r * ocents + 10000) // 20000
        rev = np.where(refunded == 0, 0,
                       np.where(refunded == ocents, line,
                                (2 * line * refunded + ocents) // (2 * ocents)))
        keep = (b >= 0) & (line > 0)
        bens.append(b[keep])
        amts.append((line - rev)[keep])
    tot = pd.Series(np.concatenate(amts)).groupby(np.concatenate(bens)).sum()
    res = pd.DataFrame({"member": ids[tot.index.to_numpy()], "cents": tot.to_numpy()})
    res = res.sort_values("member")
    res["amount"] = [f"{c // 100}.{c % 100:02d}" if c >= 0 else f"-{(-c) // 100}.{(-c) % 100:02d}"
                     for c in res["cents"].tolist()]
    res[["member", "amount"]].to_csv(out, index=False)


ENGINES = {"duckdb": run_duckdb, "pandas": run_pandas, "duckdb-lines": run_duckdb_lines}


# --------------------------------------------------------------------------- driver

def measured(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one whole process."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "r = subprocess.run(sys.argv[1:]); w = time.perf_counter() - t; "
               "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
               "sys.exit(r.returncode)")
    res = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{res.stderr}")
    wall, rss = res.stdout.split()[-2:]
    return float(wall), int(rss)


def totals(path: Path) -> dict[str, str]:
    """member -> amount (as written), non-zero totals only."""
    out = {}
    with open(path) as f:
        next(f)
        for row in f:
            member, amount = row.rstrip("\n").split(",")
            if amount.strip("-0.") != "":
                out[member] = amount
    return out


def cents(amount: str) -> int:
    neg = amount.startswith("-")
    whole, _, frac = amount.lstrip("-").partition(".")
    c = int(whole) * 100 + int((frac + "00")[:2])
    return -c if neg else c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=1_000_000)
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--engine", choices=list(ENGINES))
    ap.add_argument("--data")
    ap.add_argument("--out")
    ap.add_argument("--results", default=str(HERE / "RESULTS.md"))
    # The figures are the shipped build's (dist: fat LTO); CI's small-size
    # correctness run may take the quicker release build.
    ap.add_argument("--profile", choices=["dist", "release"], default="dist")
    a = ap.parse_args()
    if a.engine:  # one engine as its own process
        ENGINES[a.engine](Path(a.data), Path(a.out))
        return

    subprocess.run(["cargo", "build", "--profile", a.profile, "--quiet", "-p", "fenrun-cli",
                    "-p", "fenrun-benches"], cwd=ROOT, check=True)
    fenrun = str(ROOT / "target" / a.profile / "fenrun")
    floor = str(ROOT / "target" / a.profile / "floor")
    work = ROOT / "target/compare"
    data = work / f"data-{a.members}-{a.orders}-{a.seed}"
    if not (data / "orders.parquet").exists():
        subprocess.run([fenrun, "gen", "--members", str(a.members), "--orders", str(a.orders),
                        "--seed", str(a.seed), "--out", str(data), "--format", "parquet"],
                       check=True)
    tables = [f"--members={data / 'members.parquet'}", f"--orders={data / 'orders.parquet'}"]
    engines = {
        "fenrun": lambda out: [fenrun, "settle", f"--policy={POLICY}", *tables, "--no-lines",
                               f"--totals-out={out}", f"--out={work / 'fenrun-settlement.json'}"],
        # Both cores, as DuckDB uses by default; one thread above is the headline.
        "fenrun-2t": lambda out: [fenrun, "settle", f"--policy={POLICY}", *tables, "--no-lines",
                                  "--threads=2", f"--totals-out={out}",
                                  f"--out={work / 'fenrun-2t-settlement.json'}"],
        "duckdb": lambda out: [sys.executable, __file__, "--engine=duckdb", f"--data={data}",
                               f"--out={out}"],
        "pandas": lambda out: [sys.executable, __file__, "--engine=pandas", f"--data={data}",
                               f"--out={out}"],
        "floor": lambda out: [floor, str(data / "orders.parquet"), str(out)],
        # Lines to Parquet: fenrun streaming (one thread; two: blocks written
        # while the next is settled) against DuckDB's lines query.
        "fenrun-lines": lambda out: [fenrun, "settle", f"--policy={POLICY}", *tables,
                                     f"--lines-out={out}", f"--out={work / 'fenrun-lines.json'}"],
        "fenrun-lines-2t": lambda out: [fenrun, "settle", f"--policy={POLICY}", *tables,
                                        "--threads=2", f"--lines-out={out}",
                                        f"--out={work / 'fenrun-lines-2t.json'}"],
        "duckdb-lines": lambda out: [sys.executable, __file__, "--engine=duckdb-lines",
                                     f"--data={data}", f"--out={out}"],
    }
    def out_of(name: str) -> Path:
        return work / (f"{name}.parquet" if name.endswith("-lines") or "-lines-" in name
                       else f"totals-{name}.csv")
    results: dict[str, list[tuple[float, int]]] = {k: [] for k in engines}
    for run in range(a.runs):
        for name, cmd in engines.items():
            r = measured(cmd(out_of(name)))
            results[name].append(r)
            print(f"run {run + 1}: {name:<9} {r[0]:8.2f} s  peak {r[1] / 1024:8.0f} MiB", flush=True)

    ref = {m: cents(v) for m, v in totals(work / "totals-fenrun.csv").items()}
    for name in ("fenrun-2t", "duckdb", "pandas"):
        got = {m: cents(v) for m, v in totals(work / f"totals-{name}.csv").items()}
        if got != ref:
            diff = [m for m in set(ref) | set(got) if ref.get(m) != got.get(m)]
            raise SystemExit(f"{name} totals differ from fenrun for {len(diff)} members, "
                             f"e.g. {sorted(diff)[:5]}: {[(ref.get(m), got.get(m)) for m in sorted(diff)[:5]]}")
    # The lines files: as many lines, the same totals to the cent, and the
    # same bytes from fenrun on one thread or two.
    import duckdb
    con = duckdb.connect()
    line_counts = {}
    for name in ("fenrun-lines", "fenrun-lines-2t", "duckdb-lines"):
        f = out_of(name)
        line_counts[name] = con.execute(f"SELECT count(*) FROM read_parquet('{f}')").fetchone()[0]
        got = {m: int(c) for m, c in con.execute(
            f"SELECT beneficiary::VARCHAR, CAST(sum(amount) * 100 AS BIGINT) FROM read_parquet('{f}') "
            "GROUP BY 1 HAVING sum(amount) <> 0").fetchall()}
        if got != ref:
            diff = [m for m in set(ref) | set(got) if ref.get(m) != got.get(m)]
            raise SystemExit(f"{name}: the lines' totals differ from fenrun's for {len(diff)} "
                             f"members, e.g. {sorted(diff)[:5]}")
    if len(set(line_counts.values())) != 1:
        raise SystemExit(f"line counts differ: {line_counts}")
    if out_of("fenrun-lines").read_bytes() != out_of("fenrun-lines-2t").read_bytes():
        raise SystemExit("fenrun's lines file differs between one thread and two")
    # fenrun's compute time without I/O, from its own phase timings.
    t = subprocess.run(engines["fenrun"](work / "totals-fenrun.csv") + ["--timings"],
                       capture_output=True, text=True, check=True).stderr
    phases = {l.split()[1]: float(l.split()[2]) for l in t.splitlines() if l.startswith("timing")}

    med = {k: statistics.median(w for w, _ in v) for k, v in results.items()}
    rss = {k: max(r for _, r in v) for k, v in results.items()}
    lines = [
        "# fenrun vs DuckDB vs pandas: one run, same Parquet files",
        "",
        f"Written by `python benches/compare/compare.py --members {a.members} --orders {a.orders} "
        f"--runs {a.runs} --seed {a.seed}` on {time.strftime('%Y-%m-%d')}.",
        "",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; "
        f"duckdb {__import__('duckdb').__version__} (default threads), "
        f"pandas {__import__('pandas').__version__}, numpy {__import__('numpy').__version__}.",
        f"- Data: `fenrun gen --members {a.members} --orders {a.orders} --seed {a.seed}` "
        f"(Parquet: members, orders with refunds as rows). {len(ref)} members earn.",
        f"- Workload: `benches/compare/policy.json` (3-tier levels 0.10/0.05/0.02, seller "
        f"included, no rank filter; differential over 0/0.10/0.15/0.20; half_up, 2 decimals; "
        f"refunds reversed per SPEC 6.2).",
        "- Each engine runs as a whole process from the Parquet files to a totals CSV; wall "
        "time is the median of the runs, peak RSS the largest. Totals were checked equal "
        "to the cent for every member before this file was written.",
        "",
        "| engine | median wall (s) | runs (s) | peak RSS (MiB) | vs fenrun |",
        "|---|---:|---:|---:|---:|",
    ]
    def row(k: str, *against: str) -> str:
        """One engine's row: median, runs, peak RSS, then its ratio to each of `against`."""
        runs = ", ".join(f"{w:.2f}" for w, _ in results[k])
        ratios = "".join(f" {med[k] / med[a]:.2f}× |" for a in against)
        return f"| {k} | {med[k]:.2f} | {runs} | {rss[k] / 1024:.0f} |{ratios}"

    lines += [row(k, "fenrun") for k in engines if "lines" not in k]
    lines += [
        "",
        f"- DuckDB / fenrun: **{med['duckdb'] / med['fenrun']:.2f}×**; pandas / fenrun: "
        f"**{med['pandas'] / med['fenrun']:.2f}×** (fenrun on one thread, the headline).",
        f"- On both cores (`--threads 2`, as DuckDB uses by default): DuckDB / fenrun "
        f"**{med['duckdb'] / med['fenrun-2t']:.2f}×**; pandas / fenrun "
        f"**{med['pandas'] / med['fenrun-2t']:.2f}×**.",
        f"- fenrun / floor (one streaming pass over the same orders summing amounts per "
        f"seller, `benches/src/bin/floor.rs`): **{med['fenrun'] / med['floor']:.2f}×**.",
        "- fenrun phases in one more run (`--timings`): " + ", ".join(
            f"{k} {v:.2f} s" for k, v in phases.items()) +
        f"; compute without I/O (ranks + settle) {phases.get('ranks', 0) + phases.get('settle', 0):.2f} s.",
        "",
        f"## Lines to Parquet ({line_counts['fenrun-lines']} lines)",
        "",
        "Each engine writes every payout line (order lines and reversals) to one Parquet "
        "file from the same tables. The line counts were checked equal, the totals per "
        "beneficiary read back from each file equal to the cent to the totals above, and "
        "fenrun's file the same bytes on one thread and two.",
        "",
        "| engine | median wall (s) | runs (s) | peak RSS (MiB) | vs duckdb-lines | vs fenrun totals |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [row(k, "duckdb-lines", "fenrun") for k in engines if "lines" in k]
    lines += [
        "",
        f"- fenrun lines / DuckDB lines: **{med['fenrun-lines'] / med['duckdb-lines']:.2f}×** "
        f"on one thread, **{med['fenrun-lines-2t'] / med['duckdb-lines']:.2f}×** on two "
        "(DuckDB on its default threads).",
        f"- fenrun lines / fenrun totals: **{med['fenrun-lines'] / med['fenrun']:.2f}×** "
        f"(one thread each).",
        "",
    ]
    Path(a.results).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
