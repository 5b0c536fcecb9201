#!/usr/bin/env bash
# Builds the npm package `fenrun` into target/wasm-pkg and the playground into
# target/playground. Installs what it needs, idempotently (see ../shared/TOOLCHAIN.md):
# Debian's Rust with the wasm std sources (build-std), wasm-bindgen-cli, and from
# npm binaryen (wasm-opt), typescript and playwright-core.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
WB_VERSION=0.2.130

need_apt=()
for p in rustc-web cargo-web rust-web-src libstd-rust-web-dev rust-web-llvm lld-22 chromium chromium-driver; do
  dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WB_VERSION"; then
  cargo install wasm-bindgen-cli --version "=$WB_VERSION"
fi
if [ ! -x bindings/wasm/node_modules/.bin/wasm-opt ] || [ ! -x bindings/wasm/node_modules/.bin/tsc ] \
  || [ ! -d bindings/wasm/node_modules/playwright-core ]; then
  (cd bindings/wasm && npm ci --no-audit --no-fund --silent)
fi

echo "building fenrun-wasm (Debian rustc, build-std)"
RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
  CARGO_PROFILE_DIST_PANIC=abort CARGO_PROFILE_DIST_OPT_LEVEL=s CARGO_PROFILE_DIST_DEBUG=false \
  /usr/bin/cargo build --profile dist --locked -p fenrun-wasm --target wasm32-unknown-unknown \
  -Z build-std=std,panic_abort --target-dir target/wasm

PKG=target/wasm-pkg
rm -rf "$PKG"
mkdir -p "$PKG/wasm"
wasm-bindgen --target web --out-dir "$PKG/wasm" --out-name fenrun_wasm \
  target/wasm/wasm32-unknown-unknown/dist/fenrun_wasm.wasm
bindings/wasm/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals \
  "$PKG/wasm/fenrun_wasm_bg.wasm" -o "$PKG/wasm/fenrun_wasm_bg.wasm"
cp bindings/wasm/js/index.js bindings/wasm/js/node.js bindings/wasm/js/index.d.ts bindings/wasm/js/schema.d.ts \
  bindings/wasm/js/package.json bindings/wasm/README.md "$PKG/"

raw=$(stat -c %s "$PKG/wasm/fenrun_wasm_bg.wasm")
gz=$(gzip -9 -c "$PKG/wasm/fenrun_wasm_bg.wasm" | wc -c)
limit=414720 # 405 KiB gzipped: the limit docs/javascript.md states
printf 'fenrun_wasm_bg.wasm: %d bytes, %d bytes gzipped (limit %d)\n' "$raw" "$gz" "$limit" | tee target/wasm-size.txt
if [ "$gz" -gt "$limit" ]; then
  echo "fenrun_wasm_bg.wasm is $gz bytes gzipped, above the limit of $limit" >&2
  exit 1
fi

PG=target/playground
rm -rf "$PG"
mkdir -p "$PG/examples"
cp docs/playground/* "$PG/"
cp -r "$PKG" "$PG/pkg"
cp examples/community-retail/policy.json "$PG/examples/policy.json"
cp examples/community-retail/batch.json "$PG/examples/batch.json"
cp examples/community-retail/proposed-policy.json "$PG/examples/proposed-policy.json"
echo "package: $ROOT/$PKG; playground: $ROOT/$PG"
