#!/usr/bin/env bash
# Crash safety (issue 13): SIGKILL in the middle of `sov pull`, `sov create -q` and
# `sov quantize`, at several moments. After each kill the store must be consistent: every
# model that had completed is still listed and its blobs intact, the killed model is either
# absent or complete, every blob's content matches its digest name, and the next run
# succeeds. Quantize output is either absent or a complete GGUF (temp file + rename).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
registry_bin=$(sibling_bin ../store/sov_test_registry)
isolate_home
model=$data/models/stories260K.gguf
big=$data/models/synth-llama-F32.gguf

# Every finished blob's SHA-256 is its name (partials and temp files are not blobs).
check_blobs() {
  local f
  for f in "$SOV_MODELS"/blobs/sha256-*; do
    [ -e "$f" ] || continue
    case "$f" in *-partial* | *.tmp* | *quantize* | *.lock) continue ;; esac
    [ "$(basename "$f")" = "sha256-$(sha256sum "$f" | cut -c1-64)" ] || fail "blob $f does not match its digest"
  done
}
# A listed model must resolve and its weights be a complete GGUF.
check_listed() {
  local name
  for name in $("$sov" list | awk 'NR > 1 {print $1}'); do
    "$sov" show "$name" >/dev/null 2>&1 || fail "listed model $name does not resolve"
    local path
    path=$("$sov" show "$name" --json | sed -n 's/^  "path": "\(.*\)",$/\1/p')
    "$sov" inspect "$path" >/dev/null 2>&1 || fail "weights of $name are not a complete GGUF"
  done
}
# Kills "$@" with SIGKILL after $delay seconds; returns once it is gone.
run_and_kill() {
  local delay=$1
  shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$delay"
  kill -KILL $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
}

# A completed model that no crash may lose.
printf 'FROM %s\nSYSTEM keep me\n' "$model" >"$tmp/Modelfile.keep"
"$sov" create keep -f "$tmp/Modelfile.keep" >/dev/null 2>&1 || fail "create keep"
keep_path=$("$sov" show keep --json | sed -n 's/^  "path": "\(.*\)",$/\1/p')
cmp -s "$keep_path" "$model" || fail "keep blob differs"

# create -q (quantizes into the store), killed at several moments.
printf 'FROM %s\n' "$big" >"$tmp/Modelfile.big"
for delay in 0.05 0.2 0.5 1.0; do
  run_and_kill $delay "$sov" create big -q Q4_0 -f "$tmp/Modelfile.big"
  "$sov" list | grep -q '^keep:latest' || fail "completed model lost after killed create ($delay s)"
  cmp -s "$keep_path" "$model" || fail "keep blob changed after killed create"
  check_blobs
  check_listed
done
"$sov" create big -q Q4_0 -f "$tmp/Modelfile.big" >/dev/null 2>&1 || fail "create after kills"
check_listed

# pull, killed in the middle of the blob (the registry stalls after 400 kB).
"$registry_bin" --port-file "$tmp/port" --stall-after 400000 "library/stories:latest=$data/models/TinyLLama-v0.Q4_0.gguf" &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || fail "registry did not start"
SOV_REGISTRY=http://127.0.0.1:$(cat "$tmp/port") "$sov" pull stories >/dev/null 2>&1 &
pull_pid=$!
for _ in $(seq 200); do ls "$SOV_MODELS/blobs/"*-partial >/dev/null 2>&1 && break; sleep 0.05; done
ls "$SOV_MODELS/blobs/"*-partial >/dev/null 2>&1 || fail "pull did not start a blob"
kill -KILL $pull_pid
wait $pull_pid 2>/dev/null || true
"$sov" list | grep -q '^stories' && fail "killed pull left a model"
"$sov" list | grep -q '^keep:latest' || fail "completed model lost after killed pull"
check_blobs
"$registry_bin" --port-file "$tmp/port2" "library/stories:latest=$data/models/TinyLLama-v0.Q4_0.gguf" &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/port2" ] && break; sleep 0.05; done
SOV_REGISTRY=http://127.0.0.1:$(cat "$tmp/port2") "$sov" pull stories >/dev/null 2>&1 || fail "pull after kill"
check_blobs
check_listed

# quantize to a file: the output is absent or complete, never a truncated GGUF; a previous
# complete output survives a killed rerun.
out=$tmp/out/q.gguf
mkdir -p "$tmp/out"
for delay in 0.05 0.3; do
  run_and_kill $delay "$sov" quantize -t 1 "$big" "$out" Q4_0
  [ ! -e "$out" ] || "$sov" inspect "$out" >/dev/null 2>&1 || fail "killed quantize left a truncated $out"
done
"$sov" quantize -t 1 "$big" "$out" Q4_0 >/dev/null 2>&1 || fail "quantize"
want=$(sha256sum "$out" | cut -c1-64)
for delay in 0.05 0.3; do
  run_and_kill $delay "$sov" quantize -t 1 "$big" "$out" Q4_0
  [ "$(sha256sum "$out" | cut -c1-64)" = "$want" ] || fail "killed quantize damaged the previous output"
done
echo "crash_test: ok"
