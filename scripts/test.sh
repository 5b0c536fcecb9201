#!/usr/bin/env bash
# Runs every test of the repository. Installs what it needs (idempotently):
# this is what CI runs through .ci/run, so running it locally is running CI.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
command -v cargo >/dev/null || { echo "cargo is required (rustup's stable toolchain)"; exit 1; }
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
cargo --version

step "format"
cargo fmt --all --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "docs (rustdoc warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "the published crates package and build on their own (cargo publish --dry-run)"
# The dry run unpacks the workspace's own packages into a local overlay registry and never
# unpacks a version again once it has: drop earlier copies so that a second run on the same
# machine builds today's sources, not the first run's.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/fenrun-*
cargo publish --dry-run --locked -p fenrun -p fenrun-gen -p fenrun-arrow -p fenrun-cli

step "unit, vector, property and doc tests"
cargo test --workspace --locked

step "1,000,000-deep chain (release)"
cargo test --release --locked -p fenrun --test deep_chain -- --ignored

step "README main command on the bundled example"
cargo run --release --locked --quiet -p fenrun-cli -- settle \
  --policy examples/community-retail/policy.json \
  --batch examples/community-retail/batch.json --out target/settlement.json
test -s target/settlement.json

step "Python package: build the abi3 wheel, install it in a fresh venv, run pytest there"
python3 -m venv target/py-build
target/py-build/bin/pip install --quiet --disable-pip-version-check "maturin==1.16.*"
rm -f target/wheels/fenrun-*.whl
target/py-build/bin/maturin build --profile dist --locked -m bindings/python/Cargo.toml -o target/wheels
rm -rf target/py-test
python3 -m venv target/py-test
target/py-test/bin/pip install --quiet --disable-pip-version-check target/wheels/fenrun-*.whl \
  -r bindings/python/requirements-test.txt
# fenrun.spark's tests need a JDK for PySpark (Debian's, installed once).
if ! command -v java >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
fi
FENRUN_REQUIRE_SPARK=1 FENRUN_CLI="$PWD/target/release/fenrun" \
  target/py-test/bin/python -m pytest -q bindings/python/tests
step "Python and CLI settle the same generated Parquet to the cent"
FENRUN_CLI="$PWD/target/release/fenrun" target/py-test/bin/python benches/python/settle_parquet.py \
  --members 20000 --orders 200000 --runs 1 --results target/python-bench-ci.md

step "JavaScript package: build the wasm package and the playground (installs its toolchain)"
bash bindings/wasm/build.sh
step "JavaScript package: every vector and the error tests in Node, types under tsc"
FENRUN_CLI="$PWD/target/release/fenrun" node --test --test-reporter=dot \
  bindings/wasm/test/vectors.test.mjs bindings/wasm/test/errors.test.mjs bindings/wasm/test/ledger.test.mjs
bindings/wasm/node_modules/.bin/tsc -p bindings/wasm/test/tsconfig.json
step "JavaScript package: the playground in Chromium (Playwright)"
node bindings/wasm/test/browser.mjs

step "peer comparison at small size: fenrun, DuckDB and pandas totals agree to the cent"
python3 -m venv target/compare-venv
target/compare-venv/bin/pip install --quiet --disable-pip-version-check -r benches/compare/requirements.txt
target/compare-venv/bin/python benches/compare/compare.py --members 20000 --orders 200000 \
  --profile release --runs 1 --results target/compare/RESULTS-ci.md

step "fuzz every target for 60 s (nightly, cargo-fuzz)"
bash scripts/fuzz.sh 60
