#!/usr/bin/env bash
# Hybrid routing through the real binaries: `sov serve --config` with a fake OpenAI-compatible
# upstream on loopback (sov_fake_upstream), requests routed by model name and by rule,
# redaction of what leaves and restoration of what comes back, `sov audit`, offline mode,
# and config errors that name the line.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fake_bin=$(sibling_bin ../router/sov_fake_upstream)

isolate_home
mkdir -p "$SOV_MODELS"
ln -s "$data/models/stories260K.gguf" "$SOV_MODELS/stories260K.gguf"

pf=$tmp/fake.port
"$fake_bin" --port-file "$pf" >/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
[ -s "$pf" ] || fail "fake upstream did not start"
upstream=http://127.0.0.1:$(cat "$pf")/v1

# Starts `sov serve` with the given config; sets $base.
start_server() {
  local log=$tmp/serve.$RANDOM.log
  "$sov" serve --host 127.0.0.1:0 --config "$1" 2>"$log" &
  pids+=($!)
  for _ in $(seq 200); do grep -q 'listening on' "$log" 2>/dev/null && break; sleep 0.05; done
  base=$(sed -n 's/^sov serve: listening on \(http:[^ ]*\)$/\1/p' "$log")
  [ -n "$base" ] || fail "server did not start: $(cat "$log")"
}

cat >"$tmp/config.toml" <<TOML
[local]
model = "stories260K"

[[backends]]
name = "cloud"
base_url = "$upstream"
api_key_env = "FAKE_CLOUD_KEY"
model = "big"
aliases = { smart = "big" }
price = { input = 1.0, output = 2.0 }

[[rules]]
name = "proofs"
keywords = ["theorem"]
backend = "cloud"
TOML
export FAKE_CLOUD_KEY=sk-cli-test-key-0000000000000000
start_server "$tmp/config.toml"

chat() {  # model text -> response with headers
  jq -nc --arg m "$1" --arg t "$2" '{model:$m, stream:false, max_tokens:8, temperature:0, messages:[{role:"user",content:$t}]}' |
    curl -s -D "$tmp/headers" -H 'Content-Type: application/json' --data-binary @- "$base/v1/chat/completions"
}

# auto, no rule: the local model.
out=$(chat auto "Once upon a time")
grep -qi '^x-sov-route: backend=local; model=stories260K; rule=default' "$tmp/headers" || fail "local route: $(cat "$tmp/headers")"
[ "$(jq -r .model <<<"$out")" = "stories260K" ] || fail "local answer: $out"

# auto + keyword rule: upstream; the e-mail address is redacted on the way out, restored on the way back.
out=$(chat auto "Prove this theorem and mail it to ann@example.com")
grep -qi '^x-sov-route: backend=cloud; model=big; rule=proofs' "$tmp/headers" || fail "rule route: $(cat "$tmp/headers")"
[ "$(jq -r '.choices[0].message.content' <<<"$out")" = "echo: Prove this theorem and mail it to ann@example.com" ] ||
  fail "restored answer: $out"

# An alias, streamed through Ollama's API as NDJSON.
jq -nc '{model:"smart", prompt:"hello there"}' |
  curl -s -H 'Content-Type: application/json' --data-binary @- "$base/api/generate" >"$tmp/gen"
[ "$(jq -rj .response <"$tmp/gen")" = "echo: hello there" ] || fail "ndjson stream: $(cat "$tmp/gen")"
[ "$(tail -n1 "$tmp/gen" | jq -r .done)" = "true" ] || fail "no final line"

# Explain without running.
jq -nc '{model:"auto", messages:[{role:"user",content:"a theorem"}]}' |
  curl -s -H 'Content-Type: application/json' --data-binary @- "$base/api/route/explain" >"$tmp/explain"
[ "$(jq -r .rule "$tmp/explain")" = "proofs" ] || fail "explain: $(cat "$tmp/explain")"

# The audit log: exactly the two upstream requests, redaction counted, the value absent.
"$sov" audit --json --config "$tmp/config.toml" >"$tmp/audit.json"
[ "$(jq length "$tmp/audit.json")" = 2 ] || fail "audit entries: $(cat "$tmp/audit.json")"
[ "$(jq -r '.[0].redactions.email' "$tmp/audit.json")" = 1 ] || fail "audit redactions: $(cat "$tmp/audit.json")"
[ "$(jq -r '.[1].model' "$tmp/audit.json")" = big ] || fail "audit model"
grep -q 'ann@example.com' "$SOV_HOME/audit.db" && fail "the audit log holds a redacted value"
"$sov" audit --since 1h --config "$tmp/config.toml" >"$tmp/audit.txt"
grep -q '^2 request(s)' "$tmp/audit.txt" || fail "audit table: $(cat "$tmp/audit.txt")"
grep -q 'email=1' "$tmp/audit.txt" || fail "audit table redactions: $(cat "$tmp/audit.txt")"
"$sov" audit --since junk 2>"$tmp/err" && fail "--since junk accepted"
grep -q 'expected a duration' "$tmp/err" || fail "--since error: $(cat "$tmp/err")"
curl -s "$base/metrics" | grep -q 'sov_upstream_requests_total{backend="cloud"} 2' || fail "metrics"

# Offline mode: an upstream off this machine is refused at once, nothing is recorded.
cat >"$tmp/offline.toml" <<TOML
offline = true
[local]
model = "stories260K"
[audit]
path = "$tmp/offline-audit.db"
[[backends]]
name = "far"
base_url = "https://10.255.255.1/v1"
models = ["remote-model"]
TOML
start_server "$tmp/offline.toml"
code=$(jq -nc '{model:"remote-model", messages:[{role:"user",content:"hi"}]}' |
  curl -s -o "$tmp/off" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @- "$base/v1/chat/completions")
[ "$code" = 403 ] || fail "offline status $code: $(cat "$tmp/off")"
grep -q 'offline mode' "$tmp/off" || fail "offline message: $(cat "$tmp/off")"
[ "$("$sov" audit --json --config "$tmp/offline.toml")" = "[]" ] || fail "offline audit not empty"

# Config mistakes stop the server with the line.
printf 'offline = true\nofline = false\n' >"$tmp/bad.toml"
"$sov" serve --host 127.0.0.1:0 --config "$tmp/bad.toml" 2>"$tmp/err" && fail "bad config accepted"
grep -q 'line 2: config: unknown key "ofline"' "$tmp/err" || fail "bad config message: $(cat "$tmp/err")"
"$sov" serve --host 127.0.0.1:0 --config "$tmp/missing.toml" 2>"$tmp/err" && fail "missing config accepted"
grep -q 'cannot open the config file' "$tmp/err" || fail "missing config message: $(cat "$tmp/err")"
echo "router CLI tests passed"
