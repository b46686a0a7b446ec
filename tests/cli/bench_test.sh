#!/usr/bin/env bash
# `sov bench` on the tiny real model: the table has a pp and a tg row with "±" and the peak
# RSS, --json prints an array of one object per test with llama-bench's field names (the KV
# cache type as type_k/type_v), -s runs the tg test over several sequences at once, and bad
# arguments fail cleanly. Speeds are only checked to be positive numbers.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
model="$data/models/stories260K.gguf"

"$sov" bench -m "$model" -p 16 -n 8 -r 2 -t 2 >"$tmp/table"
grep -qE '\| +pp16 \| +[0-9.]+ ± [0-9.]+ \|' "$tmp/table" || fail "no pp16 row: $(cat "$tmp/table")"
grep -qE '\| +tg8 \| +[0-9.]+ ± [0-9.]+ \|' "$tmp/table" || fail "no tg8 row: $(cat "$tmp/table")"
grep -q "peak RSS" "$tmp/table" || fail "no peak RSS line"

"$sov" bench -m "$model" -p 16 -n 8 -r 3 -t 2 --json >"$tmp/json"
[ "$(head -c1 "$tmp/json")" = "[" ] || fail "JSON output does not start with an array"
# One object per test (pretty-printed with two-space indentation).
[ "$(grep -c '^  {' "$tmp/json")" -eq 2 ] || fail "want 2 objects: $(cat "$tmp/json")"
for key in n_prompt n_gen n_threads avg_ts stddev_ts model_filename model_type; do
  [ "$(grep -c "^    \"$key\": " "$tmp/json")" -eq 2 ] || fail "field $key missing"
done
grep -q '"n_prompt": 16,' "$tmp/json" && grep -q '"n_gen": 8,' "$tmp/json" || fail "test sizes"
[ "$(grep -c '"n_threads": 2,' "$tmp/json")" -eq 2 ] || fail "n_threads"
grep -q "\"model_filename\": \"$model\"" "$tmp/json" || fail "model_filename"
grep -q '"model_type": "llama ' "$tmp/json" || fail "model_type"
awk '/"avg_ts":/ { gsub(",", "", $2); if ($2 + 0 <= 0) bad = 1; n++ } END { exit !(n == 2 && !bad) }' "$tmp/json" \
  || fail "avg_ts must be two positive numbers"
if command -v jq >/dev/null; then
  jq -e 'length == 2 and all(.[]; (.avg_ts | type) == "number" and (.stddev_ts | type) == "number"
         and (.samples_ts | length) == 3) and .[0].n_gen == 0 and .[1].n_prompt == 0' "$tmp/json" >/dev/null \
    || fail "jq shape check"
fi

"$sov" bench -m "$model" -p 0 -n 4 -r 1 --json >"$tmp/tg"
[ "$(grep -c '^  {' "$tmp/tg")" -eq 1 ] || fail "-p 0 must skip the prompt test"

[ "$(grep -c '"type_k": "f16",' "$tmp/json")" -eq 2 ] || fail "the default KV cache is f16"
"$sov" bench -m "$model" -p 0 -n 4 -r 1 -s 3 --kv-cache-type f32 >"$tmp/seq"
grep -qE '\| +tg4x3 \| +[0-9.]+ ± [0-9.]+ \|' "$tmp/seq" || fail "no tg4x3 row: $(cat "$tmp/seq")"
"$sov" bench -m "$model" -p 0 -n 4 -r 1 -s 3 --kv-cache-type f32 --json >"$tmp/seq.json"
grep -q '"n_sequences": 3,' "$tmp/seq.json" && grep -q '"type_v": "f32"' "$tmp/seq.json" || fail "-s / type json"

set +e
err=$("$sov" bench -m "$model" -p 0 -n 4 --kv-cache-type q4 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "not f16 or f32" <<<"$err" || fail "bad KV type: rc=$rc $err"
err=$("$sov" bench -m "$model" -p 0 -n 4 -s 0 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "\-s must be" <<<"$err" || fail "-s 0: rc=$rc $err"
err=$("$sov" bench -m "$model" -p 0 -n 0 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "nothing to measure" <<<"$err" || fail "-p 0 -n 0: rc=$rc $err"
err=$("$sov" bench -m "$data/models/synth-bert-F32.gguf" -p 4 -n 0 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "unsupported architecture" <<<"$err" || fail "bert: rc=$rc $err"
set -e
echo "bench: all checks passed"
