#!/usr/bin/env bash
# `sov inspect` on real files: the tensor table of TinyLLama-v0, JSON output, and a refused
# file giving a one-line error and exit code 1.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out=$("$sov" inspect "$data/models/TinyLLama-v0.Q4_0.gguf")
grep -q "75 tensors" <<<"$out" || fail "expected 75 tensors"
[ "$(grep -cE '^  blk\.[0-9]+\..* q4_0 ' <<<"$out")" -eq 56 ] || fail "expected 56 q4_0 block tensors"
grep -qE '^  token_embd.weight +q4_0 +64 x 32000 +1152000$' <<<"$out" || fail "token_embd row"
grep -q '\[str x 32000\]' <<<"$out" || fail "token array summary"

json=$("$sov" inspect --json "$data/models/TinyLLama-v0.Q4_0.gguf")
count=$(grep -c '"name":' <<<"$json")
[ "$count" -eq 75 ] || fail "JSON lists $count tensors"
grep -q '"layer_norm_rms_epsilon": 1e-06' <<<"$json" || grep -q '"llama.attention.layer_norm_rms_epsilon": 1e-06' <<<"$json" || fail "float shown shortest"

set +e
err=$("$sov" inspect "$data/models/negative/tinyllamas-stories-260k-f32.gguf" 2>&1 >/dev/null)
rc=$?
set -e
[ $rc -eq 1 ] || fail "v1 file exit code $rc"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "error is not one line: $err"
grep -q "unsupported GGUF version 1" <<<"$err" || fail "v1 reason: $err"

set +e
"$sov" inspect /nonexistent.gguf 2>/dev/null
rc=$?
set -e
[ $rc -eq 1 ] || fail "missing file exit code $rc"
echo "inspect: all checks passed"
