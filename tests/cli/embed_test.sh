#!/usr/bin/env bash
# `sov embed` on the synthetic embedding models: the vectors of the four reference texts
# match reference/<stem>/embeddings.f32 (and embeddings_raw.f32 with --no-normalize), in
# text and JSON output, from arguments and from stdin; over-long input fails without
# --truncate; a decoder model embeds too.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

texts=("The cat sat on the mat." "A quick brown fox jumps over the lazy dog."
       "Embeddings map text to vectors." "What is the capital of France?")

# max |a - b| between a file of floats (one vector per line) and a float32 reference file.
max_diff() {
  od -An -v -t f4 -w512 "$2" | awk -v mine="$1" '
    { ref[NR] = $0 }
    END {
      n = 0; worst = 0
      while ((getline line < mine) > 0) {
        n++; split(line, a, " "); split(ref[n], b, " ")
        if (length(a) != length(b)) { print "length " length(a) " vs " length(b); exit }
        for (i = 1; i <= length(a); i++) { d = a[i] - b[i]; if (d < 0) d = -d; if (d > worst) worst = d }
      }
      if (n != NR) { print "rows " n " vs " NR; exit }
      printf "%.3g\n", worst
    }'
}
within() { awk -v d="$1" -v lim="$2" 'BEGIN { exit !(d ~ /^[0-9.e+-]+$/ && d + 0 <= lim) }'; }


for stem in synth-bert-F32 synth-nomic-bert-F32; do
  model="$data/models/$stem.gguf"
  ref="$data/reference/$stem"

  "$sov" embed -m "$model" "${texts[@]}" >"$tmp/args.txt"
  [ "$(wc -l <"$tmp/args.txt")" -eq 4 ] || fail "$stem: expected 4 lines"
  [ "$(awk '{ print NF }' "$tmp/args.txt" | sort -u)" = "128" ] || fail "$stem: expected 128 values per line"
  d=$(max_diff "$tmp/args.txt" "$ref/embeddings.f32")
  within "$d" 1e-3 || fail "$stem: embeddings differ from the reference by $d"

  printf '%s\n' "${texts[@]}" | "$sov" embed -m "$model" >"$tmp/stdin.txt"
  cmp -s "$tmp/args.txt" "$tmp/stdin.txt" || fail "$stem: stdin lines give different vectors"

  "$sov" embed -m "$model" --no-normalize "${texts[@]}" >"$tmp/raw.txt"
  d=$(max_diff "$tmp/raw.txt" "$ref/embeddings_raw.f32")
  within "$d" 1e-3 || fail "$stem: raw embeddings differ by $d"

  "$sov" embed -m "$model" --json "${texts[@]}" >"$tmp/out.json"
  grep -q '^{"embeddings": \[\[' "$tmp/out.json" || fail "$stem: JSON shape"
  # The JSON numbers are the text output's numbers.
  sed -e 's/^{"embeddings": \[\[//' -e 's/\]\]}$//' -e 's/\], \[/\n/g' -e 's/, / /g' "$tmp/out.json" >"$tmp/json.txt"
  cmp -s "$tmp/args.txt" "$tmp/json.txt" || fail "$stem: JSON and text output differ"

  "$sov" embed -m "$model" --dimensions 16 --pooling cls "${texts[0]}" >"$tmp/cut.txt"
  [ "$(awk '{ print NF }' "$tmp/cut.txt")" = "16" ] || fail "$stem: --dimensions 16"
done

model="$data/models/synth-bert-F32.gguf"
long=$(for i in $(seq 600); do printf 'cat '; done)
set +e
err=$("$sov" embed -m "$model" "short" "$long" 2>&1 >/dev/null)
rc=$?
set -e
[ $rc -eq 1 ] || fail "over-long input exit code $rc"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "error is not one line: $err"
grep -q "input 1 has 602 tokens, more than the model's context of 512" <<<"$err" || fail "over-long reason: $err"
[ "$("$sov" embed -m "$model" --truncate "short" "$long" | wc -l)" -eq 2 ] || fail "--truncate"

# A decoder model embeds too: its final hidden state (256 values), last-token pooling by
# default, mean pooling on request.
decoder="$data/models/synth-llama-F32.gguf"
"$sov" embed -m "$decoder" "${texts[@]}" >"$tmp/decoder.txt"
[ "$(wc -l <"$tmp/decoder.txt")" -eq 4 ] || fail "decoder: expected 4 lines"
[ "$(awk '{ print NF }' "$tmp/decoder.txt" | sort -u)" = "256" ] || fail "decoder: expected 256 values per line"
"$sov" embed -m "$decoder" --pooling mean "${texts[@]}" >"$tmp/decoder_mean.txt"
! cmp -s "$tmp/decoder.txt" "$tmp/decoder_mean.txt" || fail "decoder: --pooling mean changed nothing"
printf '%s\n' "${texts[@]}" | "$sov" embed -m "$decoder" >"$tmp/decoder_stdin.txt"
cmp -s "$tmp/decoder.txt" "$tmp/decoder_stdin.txt" || fail "decoder: stdin lines give different vectors"

set +e
"$sov" embed -m "$model" --pooling max "hello" 2>/dev/null
rc=$?
set -e
[ $rc -eq 1 ] || fail "bad pooling exit code $rc"
echo "embed: all checks passed"
