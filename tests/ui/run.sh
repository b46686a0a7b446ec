#!/usr/bin/env bash
# Browser tests of the UI that `sov serve` serves at /: playwright-core drives Debian's
# chromium (headless) against a real server with the shared test models, a loopback test
# registry (sov_test_registry) behind a throttling proxy, and screenshots of every view.
# Usage: tests/ui/run.sh path/to/sov [screenshot-dir]
#   needs SOV_TESTDATA, node >= 20, npm and chromium (CHROMIUM=/path overrides /usr/bin/chromium).
#   SOV_UI_UPDATE_DOCS=1 also copies the screenshots to docs/ui-*.png.
set -euo pipefail
sov=$(realpath "$1")
shots=$(realpath -m "${2:-$(dirname "$sov")/../../ui-screenshots}")
: "${SOV_TESTDATA:?SOV_TESTDATA must point to the shared test data}"
here=$(cd "$(dirname "$0")" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}
command -v node >/dev/null || { echo "FAIL: node is required (scripts/bootstrap)" >&2; exit 1; }
[ -x "$chromium" ] || { echo "FAIL: chromium not found at $chromium (apt-get install chromium)" >&2; exit 1; }
registry=$(dirname "$sov")/../store/sov_test_registry
[ -x "$registry" ] || { echo "FAIL: $registry not built (cmake --build build --target sov_test_registry)" >&2; exit 1; }

cd "$here"
npm ci --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null
mkdir -p "$shots"
export SOV_BIN=$sov SOV_REGISTRY_BIN=$(realpath "$registry") CHROMIUM=$chromium SOV_UI_SHOTS=$shots
status=0
node --test --test-concurrency=1 "$here"/*.test.mjs || status=$?
echo "screenshots: $shots" >&2
if [ "$status" -eq 0 ] && [ "${SOV_UI_UPDATE_DOCS:-0}" = 1 ]; then
  for f in "$shots"/ui-*.png; do cp "$f" "$here/../../docs/"; done
fi
exit "$status"
