#!/usr/bin/env bash
# `sov run` answering once (a PROMPT, or text on stdin) on the real test model: the answer is
# the model's greedy continuation of the chat-template rendering (checked against
# `sov generate` on the same rendered text), a store model's Modelfile system message,
# messages and parameters are used, and bad input fails cleanly. The interactive chat is
# tested through a pseudo-terminal by src/cli/run_pty_test.cpp.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
isolate_home
model=$data/models/stories260K.gguf
greedy=(--parameter temperature=0 --parameter num_predict=24)

# The model has no chat template, so the turn is rendered in ChatML. Greedy decoding with
# Ollama's default repeat penalty (1.1 over 64 tokens) must equal generate on that text.
# (printf -v: command substitution would drop the final newline of the rendering.)
chatml() { printf -v "$1" '%s<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n' "$2" "$3"; }
chatml story_prompt "" 'Tell me a story'
want=$("$sov" generate -m "$model" -p "$story_prompt" -n 24 --temp 0 --repeat-penalty 1.1 2>/dev/null)
[ -n "$want" ] || fail "generate gave nothing"
got=$("$sov" run "$model" Tell me a story "${greedy[@]}" </dev/null 2>"$tmp/err") || fail "run: $(cat "$tmp/err")"
[ "$got" = "$want" ] || fail "one-shot answer: got '$got', want '$want'"

# The prompt on stdin (its final newline dropped), and stdin followed by the PROMPT words.
got=$(printf 'Tell me a story\n' | "$sov" run "$model" "${greedy[@]}" 2>/dev/null)
[ "$got" = "$want" ] || fail "stdin answer: got '$got', want '$want'"
# Flags before the PROMPT take one value each.
got=$("$sov" run --parameter temperature=0 --parameter num_predict=24 "$model" Tell me a story </dev/null 2>/dev/null)
[ "$got" = "$want" ] || fail "stdin answer: got '$got', want '$want'"
got=$(printf 'Tell me' | "$sov" run "$model" a story "${greedy[@]}" 2>/dev/null)
[ "$got" = "$want" ] || fail "stdin + prompt: got '$got', want '$want'"

# Output to a pipe carries no terminal escape codes.
if printf '%s' "$got" | grep -q $'\e'; then fail "escape codes in piped output"; fi

# --system becomes a system turn; --verbose reports the turn on stderr.
chatml sys_prompt $'<|im_start|>system\nBe brief.<|im_end|>\n' 'Hello'
want_sys=$("$sov" generate -m "$model" -p "$sys_prompt" -n 24 --temp 0 --repeat-penalty 1.1 2>/dev/null)
got=$("$sov" run "$model" Hello --system "Be brief." --verbose "${greedy[@]}" </dev/null 2>"$tmp/err")
[ "$got" = "$want_sys" ] || fail "system: got '$got', want '$want_sys'"
grep -qE '^prompt: [0-9]+ tokens \(0 cached\).*answer: 24 tokens.*done: length$' "$tmp/err" \
  || fail "verbose stats: $(cat "$tmp/err")"

# A model from the store: its Modelfile's SYSTEM, MESSAGEs and PARAMETERs shape the answer.
mkdir -p "$tmp/proj"
cat >"$tmp/proj/Modelfile" <<MF
FROM $model
SYSTEM You tell stories.
MESSAGE user Hi
MESSAGE assistant Hello there.
PARAMETER temperature 0
PARAMETER num_predict 12
PARAMETER num_gpu 1
MF
"$sov" create storyteller -f "$tmp/proj/Modelfile" >/dev/null 2>&1 || fail "create"
chatml store_prompt $'<|im_start|>system\nYou tell stories.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello there.<|im_end|>\n' 'And then?'
want_store=$("$sov" generate -m "$model" -p "$store_prompt" -n 12 --temp 0 --repeat-penalty 1.1 2>/dev/null)
got=$("$sov" run storyteller "And then?" </dev/null 2>"$tmp/err") || fail "run store model: $(cat "$tmp/err")"
[ "$got" = "$want_store" ] || fail "store model: got '$got', want '$want_store'"
# Flags override the Modelfile.
got=$("$sov" run storyteller:latest "And then?" --parameter num_predict=4 --verbose </dev/null 2>"$tmp/err")
grep -q 'answer: 4 tokens' "$tmp/err" || fail "--parameter over Modelfile: $(cat "$tmp/err")"

# Refusals: a one-line error and exit 1 (2 for a bad flag).
set +e
err=$("$sov" run no-such-model hi </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "no-such-model" <<<"$err" || fail "unknown model: rc=$rc $err"
err=$("$sov" run "$model" hi --parameter temprature=0 </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && grep -q "unknown parameter" <<<"$err" || fail "bad parameter: rc=$rc $err"
err=$("$sov" run "$model" hi --parameter top_k=many </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && grep -q "top_k" <<<"$err" || fail "bad value: rc=$rc $err"
err=$("$sov" run "$model" </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "no prompt" <<<"$err" || fail "empty stdin: rc=$rc $err"
err=$("$sov" run "$model" "a long prompt that cannot fit" --parameter num_ctx=8 </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "does not fit" <<<"$err" || fail "too long: rc=$rc $err"
err=$("$sov" run "$data/models/synth-bert-F32.gguf" hi </dev/null 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "unsupported architecture 'bert'" <<<"$err" || fail "bert: rc=$rc $err"
set -e
echo "run: all checks passed"
