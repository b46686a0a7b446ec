#!/usr/bin/env bash
# End-to-end tests of `sov serve` with the real npm clients users run (openai, ollama).
# Usage: tests/e2e/run.sh path/to/sov path/to/sov_test_registry path/to/sov_fake_upstream
#   (needs SOV_TESTDATA, node >= 20 and npm)
# Installs the pinned clients with `npm ci` into tests/e2e/node_modules, starts the server on
# a free port with a temporary models directory (the store root, with the test models as
# loose GGUF files), and the loopback test registry serving stories260K as
# library/stories:latest, and a fake OpenAI-compatible upstream that the server's routing
# config names (model "big" goes there), then runs every *.test.mjs with node --test.
set -euo pipefail
sov=$(realpath "$1")
registry_bin=$(realpath "$2")
fake_bin=$(realpath "$3")
data=${SOV_TESTDATA:?SOV_TESTDATA must point to the shared test data}
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null || { echo "node is required" >&2; exit 1; }

cd "$here"
npm ci --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null

tmp=$(mktemp -d)
server_pid=
registry_pid=
fake_pid=
cleanup() {
  if [ -n "$fake_pid" ]; then kill "$fake_pid" 2>/dev/null || true; wait "$fake_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/models"
for stem in stories260K TinyLLama-v0.Q4_0 synth-bert-F32 synth-nomic-bert-F32; do ln -s "$data/models/$stem.gguf" "$tmp/models/$stem.gguf"; done

# The registry for the pull tests (models named 127.0.0.1:<port>/library/stories).
"$registry_bin" --port-file "$tmp/registry.port" "library/stories:latest=$data/models/stories260K.gguf" &
registry_pid=$!
"$fake_bin" --port-file "$tmp/fake.port" >/dev/null &
fake_pid=$!
for _ in $(seq 1 200); do [ -s "$tmp/registry.port" ] && [ -s "$tmp/fake.port" ] && break; sleep 0.05; done
[ -s "$tmp/registry.port" ] || { echo "the test registry did not start" >&2; exit 1; }
[ -s "$tmp/fake.port" ] || { echo "the fake upstream did not start" >&2; exit 1; }
export SOV_TEST_REGISTRY="127.0.0.1:$(cat "$tmp/registry.port")"

# Hybrid routing: "big" (and its alias "smart") live on the fake upstream; everything else,
# and `auto`, runs locally.
cat >"$tmp/config.toml" <<TOML
[local]
model = "stories260K"

[[backends]]
name = "cloud"
base_url = "http://127.0.0.1:$(cat "$tmp/fake.port")/v1"
model = "big"
models = ["big"]
aliases = { smart = "big" }
TOML

# Port 0: the server picks a free port and prints it. No Ollama store is read (isolation).
SOV_HOME="$tmp/home" SOV_OLLAMA_MODELS= SOV_REGISTRY= SOV_API_KEY= SOV_ORIGINS= \
  "$sov" serve --host 127.0.0.1:0 --models "$tmp/models" --parallel 1 --threads 1 --config "$tmp/config.toml" \
  2>"$tmp/server.log" &
server_pid=$!
port=
for _ in $(seq 1 200); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp/server.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$port" ] || { echo "the server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }

export SOV_URL="http://127.0.0.1:$port"
export SOV_MODELS_DIR="$tmp/models"
status=0
node --test --test-concurrency=1 "$here"/*.test.mjs || status=$?
if [ "$status" -ne 0 ]; then echo "--- server log ---" >&2; tail -50 "$tmp/server.log" >&2; fi
exit "$status"
