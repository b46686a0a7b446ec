#!/usr/bin/env bash
# `sov template render` on a real template of the shared corpus: the rendering equals the
# expected bytes; a template that raises exits 2 with the error on stderr.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cat >"$tmp/t.jinja" <<'T'
{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>
{{ m.content | trim }}{{ eos_token }}
{% endfor %}{% if add_generation_prompt %}<|assistant|>
{% endif %}{{ strftime_now("%d %b %Y") }} {{ flavour }}
T
echo '[{"role":"system","content":" Be brief. "},{"role":"user","content":"Hi"}]' >"$tmp/m.json"
"$sov" template render --template "$tmp/t.jinja" --messages "$tmp/m.json" --add-generation-prompt \
  --bos "<s>" --eos "</s>" --var 'flavour="mint"' --now 2024-07-26 >"$tmp/out"
printf '<s><|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\n26 Jul 2024 mint' >"$tmp/want"  # Jinja2 drops the template's final newline
cmp -s "$tmp/out" "$tmp/want" || { diff "$tmp/want" "$tmp/out"; fail "rendering differs"; }

echo '{% if messages[0].role != "user" %}{{ raise_exception("Conversation must start with user") }}{% endif %}' >"$tmp/r.jinja"
set +e
err=$("$sov" template render --template "$tmp/r.jinja" --messages "$tmp/m.json" 2>&1 >/dev/null); rc=$?
set -e
[ $rc -eq 2 ] || fail "raise exit code $rc"
grep -q "Conversation must start with user" <<<"$err" || fail "raise message: $err"
echo "template: all checks passed"
