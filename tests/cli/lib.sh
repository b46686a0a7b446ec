# The common start of the tests/cli/*.sh scripts; each sources it first:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# With the script's arguments ($1: the sov binary) it sets strict mode and
#   sov   the sov binary, absolute       data  $SOV_TESTDATA (required)
#   tmp   a temporary directory          pids  background processes (append with pids+=($!))
# removes $tmp and kills the processes in pids at exit, and defines:
#   fail MESSAGE     print "FAIL: MESSAGE" and exit 1
#   sibling_bin REL  the helper executable at REL from sov's build directory (fails if absent)
#   isolate_home     HOME, SOV_HOME and SOV_MODELS under $tmp; no Ollama store, registry,
#                    config or API key from the caller's environment
set -euo pipefail
sov=$(realpath "$1")
data=${SOV_TESTDATA:?SOV_TESTDATA must point to the shared test data}
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

sibling_bin() {
  local bin
  bin=$(dirname "$sov")/$1
  [ -x "$bin" ] || fail "$bin not built"
  echo "$bin"
}

isolate_home() {
  export HOME=$tmp/home SOV_HOME=$tmp/sov SOV_MODELS=$tmp/models SOV_OLLAMA_MODELS=
  unset SOV_REGISTRY OLLAMA_MODELS SOV_CONFIG SOV_API_KEY || true
  mkdir -p "$HOME"
}
