#!/usr/bin/env bash
# `sov generate` and `sov eval` on the real test models: the greedy continuation equals the
# reference, eval's logits file matches the reference logits, and bad input fails cleanly.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Greedy continuation of the reference prompt, 16 tokens, equals the reference text.
for stem in stories260K TinyLLama-v0.Q4_0; do
  prompt=$(sed -n 's/.*"prompt": *"\([^"]*\)".*/\1/p' "$data/reference/$stem/tokens.json")
  want=$(sed -n 's/.*"text": *"\([^"]*\)".*/\1/p' "$data/reference/$stem/greedy.json" | head -1)
  got=$("$sov" generate -m "$data/models/$stem.gguf" -p "$prompt" -n 16 --temp 0 2>"$tmp/err")
  [ "$got" = "$want" ] || fail "$stem: got '$got', want '$want'"
  grep -q "tok/s" "$tmp/err" || fail "$stem: no timing line on stderr"
done

# The acceptance example: 32 tokens from "Once upon a time".
got=$("$sov" generate -m "$data/models/stories260K.gguf" -p "Once upon a time" -n 32 --temp 0 2>/dev/null)
[ "$got" = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw" ] \
  || fail "stories260K 32 tokens: '$got'"

# eval writes [n_tokens, n_vocab] float32 that match the reference within 1e-4 of each row's std.
ids=$(tr -d '\n' <"$data/reference/stories260K/tokens.json" | sed 's/.*"ids": *\[\([^]]*\)\].*/\1/' | tr -d ' ' | tr ',' ' ')
"$sov" eval -m "$data/models/stories260K.gguf" --tokens "$ids" --logits "$tmp/logits.f32" 2>/dev/null
cmp -s <(stat -c %s "$tmp/logits.f32") <(stat -c %s "$data/reference/stories260K/logits.f32") || fail "eval size"
paste <(od -An -v -f -w4 "$tmp/logits.f32") <(od -An -v -f -w4 "$data/reference/stories260K/logits.f32") |
  awk -v V=512 '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d; s += $2; q += $2 * $2; n++;
       if (n == V) { sd = sqrt(q / V - (s / V) ^ 2); if (m / sd > worst) worst = m / sd; m = 0; s = 0; q = 0; n = 0 } }
       END { printf "eval worst rel %.2e\n", worst; exit !(worst < 1e-4) }' || fail "eval logits differ"

# Refusals: one-line error, exit 1.
set +e
err=$("$sov" generate -m "$data/models/negative/tinyllamas-stories-260k-q8_0.gguf" -p hi 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "172 elements per row" <<<"$err" || fail "refused model: rc=$rc $err"
err=$("$sov" generate -m "$data/models/synth-bert-F32.gguf" -p hi 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "unsupported architecture 'bert'" <<<"$err" || fail "bert: rc=$rc $err"
err=$("$sov" generate -m "$data/models/stories260K.gguf" -p "Once upon a time there was" --ctx 4 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "context holds 4" <<<"$err" || fail "overflow: rc=$rc $err"
err=$("$sov" eval -m "$data/models/stories260K.gguf" --tokens "1 99999" --logits "$tmp/x" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "outside the vocabulary" <<<"$err" || fail "bad id: rc=$rc $err"
set -e
echo "generate/eval: all checks passed"
