#!/usr/bin/env bash
# Runs the server load benchmark: starts `sov serve` with one model, 8 parallel slots and the
# given threads on a free port, then bench/server/load.mjs against it (which also runs
# `sov bench` on the same file and threads for the comparison).
#   bench/server/run.sh path/to/sov [MODEL.gguf] [extra load.mjs args...]
# Env: THREADS (default 2), PARALLEL (default 8), CTX (default 2048).
# Without MODEL.gguf it uses ~/.cache/sovereign-bench/models/synth-150m-Q4_K_M.gguf (made by
# bench/compare) or makes the 150M-shape synthetic model with build/bench/make_synth_model
# (needs SOV_TESTDATA for the vocabulary) and quantizes it to Q4_K_M.
set -euo pipefail
sov=$(realpath "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
threads=${THREADS:-2}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/models"
cached=${SOV_BENCH_CACHE:-$HOME/.cache/sovereign-bench}/models/synth-150m-Q4_K_M.gguf
if [ $# -gt 0 ] && [[ "$1" == *.gguf ]]; then
  gguf=$(realpath "$1"); shift
elif [ -f "$cached" ]; then
  gguf=$cached
else
  data=${SOV_TESTDATA:?set SOV_TESTDATA or pass a model}
  maker=$(dirname "$sov")/../../bench/make_synth_model
  "$maker" --shape 150m --vocab "$data/tokenizer/ggml-vocab-llama-spm.gguf" --out "$tmp/f16.gguf" >/dev/null
  gguf=$tmp/bench-q4km.gguf
  "$sov" quantize "$tmp/f16.gguf" "$gguf" Q4_K_M >/dev/null 2>&1 || mv "$tmp/f16.gguf" "$gguf"
fi
ln -s "$gguf" "$tmp/models/bench.gguf"
"$sov" serve --host 127.0.0.1:0 --models "$tmp/models" --parallel "${PARALLEL:-8}" --ctx "${CTX:-2048}" \
  --threads "$threads" 2>"$tmp/log" &
pid=$!
port=
for _ in $(seq 1 200); do
  port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp/log" | head -1)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$tmp/log" >&2; exit 1; }
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; $(basename "$gguf")"
node "$here/load.mjs" --url "http://127.0.0.1:$port" --model bench --sov "$sov" --gguf "$gguf" \
  --threads "$threads" "$@"
