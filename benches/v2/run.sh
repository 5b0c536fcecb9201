#!/usr/bin/env bash
# Version 2 against version 1 on the same data (issue 24): the reference
# policy on the generator's 1M members / 10M orders without categories, then
# on the same batch with a category on every order (5 categories), under
# (a) the reference policy as version 2 (categories select nothing) and
# (b) reference-v2.json (its rules priced per category). Totals only, one
# thread; the three alternate round by round and the medians are compared.
#
#   bash benches/v2/run.sh [members] [orders] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
members=${1:-1000000}
orders=${2:-10000000}
rounds=${3:-5}
bin=target/dist/fenrun
cargo build --profile dist --locked -q -p fenrun-cli
data=target/bench-v2
if [ ! -f "$data/plain/orders.parquet" ] || [ ! -f "$data/plain/.size-$members-$orders" ]; then
  rm -rf "$data"
  "$bin" gen --members "$members" --orders "$orders" --seed 42 --format parquet --out "$data/plain"
  "$bin" gen --members "$members" --orders "$orders" --seed 42 --format parquet --categories 5 --out "$data/categories"
  touch "$data/plain/.size-$members-$orders"
fi
python3 - "$data" > "$data/reference-as-v2.json" <<'PY'
import json, sys
p = json.load(open("examples/reference-policy.json"))
p["version"] = 2
print(json.dumps(p))
PY
run() { # name policy dir -> "ranks settle" seconds
  "$bin" --timings settle --policy "$2" --members "$3/members.parquet" \
    --groups "$3/groups.parquet" --orders "$3/orders.parquet" --no-lines \
    --out "$data/$1.json" 2>&1 >/dev/null | awk '
      /^timing/ { t[$2] = $3 }
      END { printf "%s %s\n", t["ranks"], t["settle"] }'
}
: > "$data/times.txt"
for r in $(seq "$rounds"); do
  for case in v1 v2-plain v2-categories; do
    case $case in
      v1) out=$(run v1 examples/reference-policy.json "$data/plain") ;;
      v2-plain) out=$(run v2-plain "$data/reference-as-v2.json" "$data/categories") ;;
      v2-categories) out=$(run v2-categories benches/v2/reference-v2.json "$data/categories") ;;
    esac
    echo "$case $out" | tee -a "$data/times.txt"
  done
done
# Categories the policy does not name change nothing: the same totals.
python3 - "$data" <<'PY'
import json, statistics, sys
d = sys.argv[1]
a, b = (json.load(open(f"{d}/{n}.json")) for n in ("v1", "v2-plain"))
assert a["totals"] == b["totals"] and a["summary"] == b["summary"], "v2-plain differs from v1"
rows = [l.split() for l in open(f"{d}/times.txt")]
med = {}
for case in ("v1", "v2-plain", "v2-categories"):
    rs = [float(r[1]) for r in rows if r[0] == case]
    ss = [float(r[2]) for r in rows if r[0] == case]
    cs = [x + y for x, y in zip(rs, ss)]
    med[case] = (statistics.median(rs), statistics.median(ss), statistics.median(cs))
print("| case | ranks | settle | ranks + settle | / v1 |")
print("|---|---:|---:|---:|---:|")
for case, (r, s, c) in med.items():
    print(f"| {case} | {r:.3f} s | {s:.3f} s | {c:.3f} s | {c / med['v1'][2]:.3f}× |")
PY
