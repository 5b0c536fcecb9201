#!/usr/bin/env bash
# Builds the npm package and the playground, then serves the playground on
# http://127.0.0.1:8000/ (Ctrl-C to stop). PORT=8080 to choose another port.
set -euo pipefail
cd "$(dirname "$0")/.."
bash bindings/wasm/build.sh
echo "playground: http://127.0.0.1:${PORT:-8000}/"
exec python3 -m http.server "${PORT:-8000}" --bind 127.0.0.1 --directory target/playground
