#!/usr/bin/env bash
# `sov generate --grammar / --json-schema / --json` on the tiny real model at a high
# temperature: the output must follow the grammar (it would not without the constraint), and
# bad grammars and schemas fail cleanly with a message.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
model="$data/models/stories260K.gguf"

printf 'root ::= "The " animal " is " ("big" | "small") "."\nanimal ::= "cat" | "dog"\n' >"$tmp/pet.gbnf"
for seed in 1 2 3; do
  out=$("$sov" generate -m "$model" -p "Once upon a time" --grammar "$tmp/pet.gbnf" --temp 1.5 --seed $seed -n 50 2>"$tmp/err")
  [[ "$out" =~ ^The\ (cat|dog)\ is\ (big|small)\.$ ]] || fail "grammar output: '$out'"
  grep -q "stop: stop" "$tmp/err" || fail "did not end at the grammar's end: $(cat "$tmp/err")"
done

cat >"$tmp/schema.json" <<'JSON'
{"type": "object", "properties": {"mood": {"enum": ["happy", "sad"]},
 "age": {"type": "integer", "minimum": 1, "maximum": 99}}, "required": ["mood", "age"],
 "additionalProperties": false}
JSON
for seed in 1 2 3; do
  out=$("$sov" generate -m "$model" -p "Once upon a time" --json-schema "$tmp/schema.json" --temp 1.5 --seed $seed -n 200 2>/dev/null)
  # Whitespace may vary; the content may not.
  flat=$(printf '%s' "$out" | tr -d ' \n\t')
  [[ "$flat" =~ ^\{\"mood\":\"(happy|sad)\",\"age\":([1-9]|[1-9][0-9])\}$ ]] || fail "schema output: '$out'"
done

out=$("$sov" generate -m "$model" -p "Once upon a time" --json --temp 0 -n 40 2>/dev/null)
[ "${out:0:1}" = "{" ] || fail "--json output: '$out'"

printf 'root ::= root "a"\n' >"$tmp/left.gbnf"
if "$sov" generate -m "$model" -p x --grammar "$tmp/left.gbnf" 2>"$tmp/err"; then fail "left recursion accepted"; fi
grep -q "left-recursive" "$tmp/err" || fail "message: $(cat "$tmp/err")"
printf 'root ::= "a\n' >"$tmp/bad.gbnf"
if "$sov" generate -m "$model" -p x --grammar "$tmp/bad.gbnf" 2>"$tmp/err"; then fail "bad grammar accepted"; fi
grep -q "line 1, column" "$tmp/err" || fail "message: $(cat "$tmp/err")"
echo '{"type": "array", "uniqueItems": true}' >"$tmp/unique.json"
if "$sov" generate -m "$model" -p x --json-schema "$tmp/unique.json" 2>"$tmp/err"; then fail "uniqueItems accepted"; fi
grep -q "uniqueItems" "$tmp/err" || fail "message: $(cat "$tmp/err")"
if "$sov" generate -m "$model" -p x --json --grammar "$tmp/pet.gbnf" 2>"$tmp/err"; then fail "two constraints accepted"; fi
echo "ok"
