#!/usr/bin/env bash
# The model store through the `sov` CLI: pull from a registry test server on loopback
# (sov_test_registry), list, show, create from Modelfiles, cp, rm with garbage collection,
# an interrupted pull that resumes, hostile names, and an Ollama store read in place.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
registry_bin=$(sibling_bin ../store/sov_test_registry)

# Isolate: no real home, no Ollama store unless a test sets one.
isolate_home
model=$data/models/stories260K.gguf

# Starts a registry serving stories260K as library/stories:latest; sets $port.
start_registry() {
  local pf=$tmp/port.$RANDOM
  "$registry_bin" --port-file "$pf" "$@" "library/stories:latest=$model,system=You tell stories." &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
  [ -s "$pf" ] || fail "registry did not start"
  port=$(cat "$pf")
}

start_registry
export SOV_REGISTRY=http://127.0.0.1:$port

# Pull, list, show.
"$sov" pull stories 2>"$tmp/err" || fail "pull: $(cat "$tmp/err")"
grep -q '^success$' "$tmp/err" || fail "no success status: $(cat "$tmp/err")"
grep -q '^pulling manifest$' "$tmp/err" || fail "no manifest status"
"$sov" list >"$tmp/out"
grep -qE '^stories:latest +[0-9a-f]{12} +1\.2 MB' "$tmp/out" || fail "list: $(cat "$tmp/out")"
"$sov" ls | grep -q stories:latest || fail "ls alias"
show=$("$sov" show stories)
grep -qE 'architecture +llama' <<<"$show" || fail "show architecture: $show"
grep -qE 'quantization +F32' <<<"$show" || fail "show quantization: $show"
grep -qE 'context length +2048' <<<"$show" || fail "show context: $show"
grep -q 'You tell stories.' <<<"$show" || fail "show system: $show"
[ "$("$sov" show stories --system)" = "You tell stories." ] || fail "show --system"
"$sov" show stories --parameters | grep -qE '^stop +"</s>"$' || fail "show --parameters"

# The pulled weights are the same file, and generate the same text.
path=$("$sov" show stories --json | sed -n 's/^  "path": "\(.*\)",$/\1/p')
cmp -s "$path" "$model" || fail "pulled blob differs from the test model"
want=$("$sov" generate -m "$model" -p "Once upon a time" -n 16 --temp 0 2>/dev/null)
got=$("$sov" generate -m "$path" -p "Once upon a time" -n 16 --temp 0 2>/dev/null)
[ -n "$want" ] && [ "$got" = "$want" ] || fail "generation differs: '$got' vs '$want'"
# Commands that take MODEL accept a store name.
got=$("$sov" generate -m stories -p "Once upon a time" -n 16 --temp 0 2>/dev/null)
[ "$got" = "$want" ] || fail "generate by name: '$got' vs '$want'"
"$sov" eval -m stories --tokens "1 403 407" --logits "$tmp/by_name.f32" 2>/dev/null || fail "eval by name"
"$sov" bench -m stories -p 4 -n 2 -r 1 >/dev/null 2>&1 || fail "bench by name"
set +e
err=$("$sov" generate -m nosuch -p hi 2>&1 >/dev/null); rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'not found' <<<"$err" || fail "generate unknown name: rc=$rc $err"

# show --modelfile recreates the same model.
"$sov" show stories --modelfile >"$tmp/Modelfile.shown"
grep -q '^FROM /' "$tmp/Modelfile.shown" || fail "modelfile FROM"
"$sov" create again -f "$tmp/Modelfile.shown" 2>/dev/null || fail "create from shown Modelfile"
"$sov" show again --modelfile | grep -v '^#' >"$tmp/Modelfile.again"
grep -v '^#' "$tmp/Modelfile.shown" | cmp -s - "$tmp/Modelfile.again" || fail "recreated model differs"

# create from a Modelfile with a relative path, parameters, template, messages, license.
mkdir -p "$tmp/proj"
cp "$model" "$tmp/proj/weights.gguf"
cat >"$tmp/proj/Modelfile" <<'MF'
# a story teller
FROM ./weights.gguf
PARAMETER temperature 0.3
PARAMETER num_ctx 256
PARAMETER stop "<|end|>"
TEMPLATE """{{ .System }} {{ .Prompt }}"""
SYSTEM Short stories only.
MESSAGE user Tell me one.
LICENSE MIT
MF
(cd / && "$sov" create me/teller:v1 -f "$tmp/proj/Modelfile" 2>"$tmp/err") || fail "create: $(cat "$tmp/err")"
params=$("$sov" show me/teller:v1 --parameters)
grep -qE '^temperature +0.3$' <<<"$params" || fail "params: $params"
grep -qE '^num_ctx +256$' <<<"$params" || fail "params: $params"
[ "$("$sov" show me/teller:v1 --template)" = "{{ .System }} {{ .Prompt }}" ] || fail "template"
[ "$("$sov" show me/teller:v1 --license)" = "MIT" ] || fail "license"
"$sov" show me/teller:v1 --modelfile | grep -q '^MESSAGE user "Tell me one."$' || fail "message"
# FROM another model in the store, overriding the system prompt.
printf 'FROM me/teller:v1\nSYSTEM Longer stories.\n' >"$tmp/Modelfile.child"
"$sov" create child -f "$tmp/Modelfile.child" 2>/dev/null || fail "create FROM a name"
[ "$("$sov" show child --system)" = "Longer stories." ] || fail "child system"
"$sov" show child --parameters | grep -qE '^num_ctx +256$' || fail "child inherits parameters"

# Modelfile errors: one line, exit 1, with the line number.
printf 'FROM ./weights.gguf\nADAPTER ./lora.gguf\n' >"$tmp/proj/Modelfile.bad"
set +e
err=$("$sov" create bad -f "$tmp/proj/Modelfile.bad" 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && grep -q "line 2: ADAPTER is not supported" <<<"$err" || fail "ADAPTER: rc=$rc $err"
printf 'FROM ./weights.gguf\nPARAMETER temperature warm\n' >"$tmp/proj/Modelfile.bad"
set +e
err=$("$sov" create bad -f "$tmp/proj/Modelfile.bad" 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && grep -q 'line 2: parameter temperature: "warm" is not a number' <<<"$err" || fail "param: $err"

# cp and rm; blobs nobody references are collected.
"$sov" cp stories backup:v1 >/dev/null || fail "cp"
"$sov" show backup:v1 --system | grep -q "You tell stories." || fail "cp content"
"$sov" rm stories again me/teller:v1 child backup:v1 >"$tmp/out" || fail "rm"
[ "$(grep -c "^deleted '" "$tmp/out")" -eq 5 ] || fail "rm output: $(cat "$tmp/out")"
[ "$(ls "$SOV_MODELS/blobs" | grep -c '^sha256-')" -eq 0 ] || fail "blobs left: $(ls "$SOV_MODELS/blobs")"
[ "$("$sov" list | wc -l)" -eq 1 ] || fail "list not empty"

# Hostile names: refused with a clear message, nothing outside the store touched.
mkdir -p "$tmp/victim" && echo keep >"$tmp/victim/latest"
for name in "../victim" "../../victim" "%2e%2e/%2e%2e/victim" "a/b/c/d" "x:../../y" "$(printf 'a%.0s' {1..600})"; do
  for cmd in "pull $name" "rm $name" "cp $name ok" "cp ok $name"; do
    set +e
    err=$("$sov" $cmd 2>&1); rc=$?
    set -e
    [ $rc -eq 1 ] && grep -q "invalid model name" <<<"$err" || fail "$cmd: rc=$rc $err"
  done
done
[ "$(cat "$tmp/victim/latest")" = keep ] || fail "victim touched"

# Unknown model: not found, nothing stored.
set +e
err=$("$sov" pull nosuch 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && grep -q "not found in the registry" <<<"$err" || fail "unknown: rc=$rc $err"

# A name with the registry host in it (plain http needs --insecure).
set +e
err=$(env -u SOV_REGISTRY "$sov" pull "127.0.0.1:$port/library/stories:latest" 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && grep -q "TLS" <<<"$err" || fail "https to a plain-http registry: rc=$rc $err"
env -u SOV_REGISTRY "$sov" pull --insecure "127.0.0.1:$port/library/stories:latest" 2>/dev/null || fail "insecure pull"
"$sov" list | grep -q "^127.0.0.1:$port/library/stories:latest" || fail "host name in list"
"$sov" rm "127.0.0.1:$port/library/stories:latest" >/dev/null

# Ctrl-C in the middle of a blob: exit 130, partial kept, no model; the next pull resumes.
start_registry --stall-after 400000
stall_port=$port
SOV_REGISTRY=http://127.0.0.1:$stall_port "$sov" pull stories 2>"$tmp/err" &
pull_pid=$!
for _ in $(seq 200); do ls "$SOV_MODELS/blobs/"*-partial >/dev/null 2>&1 && break; sleep 0.05; done
sleep 0.3
kill -INT $pull_pid
set +e
wait $pull_pid; rc=$?
set -e
[ $rc -eq 130 ] || fail "interrupted pull exit code $rc: $(cat "$tmp/err")"
grep -q "run \`sov pull stories\` again to resume" "$tmp/err" || fail "interrupt message: $(cat "$tmp/err")"
ls "$SOV_MODELS/blobs/"*-partial >/dev/null 2>&1 || fail "partial file not kept"
"$sov" list | grep -q stories && fail "interrupted pull left a model"
"$sov" pull stories 2>/dev/null || fail "resumed pull"
ls "$SOV_MODELS/blobs/"*-partial >/dev/null 2>&1 && fail "partial left after resume"
cmp -s "$("$sov" show stories --json | sed -n 's/^  "path": "\(.*\)",$/\1/p')" "$model" || fail "resumed blob differs"

# An Ollama store is read in place: listed, usable, never modified.
SOV_MODELS=$tmp/ollama "$sov" pull stories 2>/dev/null
SOV_MODELS=$tmp/ollama "$sov" cp stories llama3.2:1b >/dev/null
before=$(find "$tmp/ollama" -type f | sort | xargs sha256sum)
export SOV_OLLAMA_MODELS=$tmp/ollama
"$sov" list | grep -E '^llama3.2:1b .*read-only' >/dev/null || fail "ollama model not listed"
"$sov" show llama3.2:1b | grep -qE 'architecture +llama' || fail "ollama model show"
set +e
err=$("$sov" rm llama3.2:1b 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && grep -q "read-only" <<<"$err" || fail "rm in ollama store: $err"
"$sov" cp llama3.2:1b mine:v1 >/dev/null || fail "cp from ollama store"
"$sov" rm mine:v1 >/dev/null
[ "$(find "$tmp/ollama" -type f | sort | xargs sha256sum)" = "$before" ] || fail "ollama store modified"
echo "store: all checks passed"
