#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 60), on the image's
# nightly toolchain, seeding the corpora from tests/vectors/. Installs cargo-fuzz
# if missing. A crash fails the run; minimize it (cargo +nightly fuzz tmin) and
# keep it as a vector in tests/vectors/regressions/ (see its README).
#   bash scripts/fuzz.sh 60      # what CI runs
#   bash scripts/fuzz.sh 600     # the longer local run
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"

rustup toolchain list | grep -q '^nightly' || {
  echo "fuzzing needs the nightly toolchain (rustup toolchain list shows none)"; exit 1; }
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz

python3 - <<'PY'
import json, glob, os, hashlib
for target in ("policy_json", "batch_json"):
    os.makedirs(f"fuzz/corpus/{target}", exist_ok=True)
os.makedirs("fuzz/corpus/settle_structured", exist_ok=True)
for f in glob.glob("tests/vectors/**/*.json", recursive=True):
    v = json.load(open(f))
    for key, target in (("policy", "policy_json"), ("batch", "batch_json")):
        text = v.get(key + "_text") or (json.dumps(v[key], ensure_ascii=False) if key in v else None)
        if text is None:
            continue
        name = hashlib.sha1(text.encode()).hexdigest()[:16]
        open(f"fuzz/corpus/{target}/{name}", "w").write(text)
PY

for target in policy_json batch_json settle_structured; do
  echo "==> fuzz $target for ${secs}s"
  mkdir -p target
  log="target/fuzz-$target.log"
  if ! cargo +nightly fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $target FAILED: the crashing input is in fuzz/artifacts/$target/"
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
done
