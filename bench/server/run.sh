#!/usr/bin/env bash
# Runs the server load benchmark: starts `sov serve` with one model and 8 parallel slots on a
# free port, then bench/server/load.mjs against it.
#   bench/server/run.sh path/to/sov [MODEL.gguf] [extra load.mjs args...]
# Without MODEL.gguf, the 150M-shape synthetic model is made with make_synth_model (needs
# build/bench/make_synth_model and SOV_TESTDATA for the vocabulary) and quantized to Q4_K_M.
set -euo pipefail
sov=$(realpath "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/models"
if [ $# -gt 0 ] && [[ "$1" == *.gguf ]]; then
  ln -s "$(realpath "$1")" "$tmp/models/bench.gguf"; shift
else
  data=${SOV_TESTDATA:?set SOV_TESTDATA or pass a model}
  maker=$(dirname "$sov")/../../bench/make_synth_model
  "$maker" --shape 150m --vocab "$data/tokenizer/ggml-vocab-llama-spm.gguf" --out "$tmp/f16.gguf" >/dev/null
  "$sov" quantize "$tmp/f16.gguf" "$tmp/models/bench.gguf" Q4_K_M >/dev/null 2>&1 || mv "$tmp/f16.gguf" "$tmp/models/bench.gguf"
fi
"$sov" serve --host 127.0.0.1:0 --models "$tmp/models" --parallel 8 --ctx 2048 2>"$tmp/log" &
pid=$!
for _ in $(seq 1 200); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp/log" | head -1)
  [ -n "${port:-}" ] && break
  sleep 0.05
done
node "$here/load.mjs" --url "http://127.0.0.1:$port" --model bench "$@"
