#!/usr/bin/env bash
# `sov kb` through the CLI contract: create (keyword-only and with an embedding model),
# list, status, add with its summary line and skip reasons, incremental re-add after
# modify/delete/rename, search (text and the exact --json shape, -k, --mode, --path), ask
# with a real model and its source list, hostile names, rm. Bases live under SOV_HOME.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v python3 >/dev/null || fail "python3 is needed to check JSON (scripts/bootstrap installs it)"
isolate_home
embed_model=$data/models/synth-bert-F32.gguf
chat_model=$data/models/stories260K.gguf

# A folder of mixed files.
f=$tmp/files
mkdir -p "$f/notes" "$f/src" "$f/web" "$f/build"
printf '# Garden\n\nNotes about the vegetable garden.\n\n## Tomatoes\n\nTomatoes need six hours of sun.\n' >"$f/notes/garden.md"
printf 'Travel\n======\n\nPack a paper map of Lisbon.\n' >"$f/notes/travel.rst"
printf 'def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n' >"$f/src/fib.py"
printf '<html><head><script>var hidden = "scriptword";</script></head><body><h1>Pancakes</h1><p>Whisk the batter &amp; rest it.</p></body></html>' >"$f/web/page.html"
printf 'species,count\nkingfisher,3\n' >"$f/birds.csv"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR' >"$f/image.png"
printf 'zeppelin\n' >"$f/build/out.txt"
printf 'zeppelin\n' >"$f/debug.log"
printf 'build/\n*.log\n' >"$f/.gitignore"

# --- create, hostile names, list ---
out=$("$sov" kb create notes) || fail "create notes"
[[ "$out" == *"keyword search only"* ]] || fail "create output: $out"
"$sov" kb create notes 2>"$tmp/err" && fail "a second create of one name must fail"
grep -q "already exists" "$tmp/err" || fail "duplicate create message: $(cat "$tmp/err")"
for bad in ".." "../escape" "a/b" ".hidden" "-x" "a b" "$(printf 'a\nb')" ""; do
  set +e
  "$sov" kb create -- "$bad" >/dev/null 2>"$tmp/err"
  rc=$?
  set -e
  [ "$rc" -ne 0 ] || fail "hostile name '$bad' accepted"
done
[ ! -e "$tmp/escape" ] && [ ! -e "$SOV_HOME/escape" ] || fail "a hostile name created a folder"
"$sov" kb create sem --embed-model "$embed_model" | grep -q "128 dimensions" || fail "create with a model"
"$sov" kb create broken --embed-model "$tmp/no-such-model.gguf" 2>/dev/null && fail "a missing model must be refused"
"$sov" kb list >"$tmp/list"
grep -q "^notes " "$tmp/list" && grep -q "^sem " "$tmp/list" || fail "list: $(cat "$tmp/list")"
grep -q "^broken " "$tmp/list" && fail "a failed create left a base behind"

# --- add: summary and skip reasons; no progress bar when stderr is not a terminal ---
"$sov" kb add notes "$f" >"$tmp/add.out" 2>"$tmp/add.err"
grep -qx "added 5, updated 0, renamed 0, removed 0, unchanged 0, skipped 4 files; [0-9]* chunks" "$tmp/add.out" ||
  fail "add summary: $(cat "$tmp/add.out")"
grep -q "image.png: binary (PNG image)" "$tmp/add.err" || fail "binary skip reason: $(cat "$tmp/add.err")"
grep -q "build: ignored" "$tmp/add.err" || fail "ignored folder not reported"
grep -q "debug.log: ignored" "$tmp/add.err" || fail "ignored file not reported"
grep -q $'\r' "$tmp/add.err" && fail "progress bar drawn on a non-terminal"
"$sov" kb add notes "$f" -q | grep -qx "added 0, updated 0, renamed 0, removed 0, unchanged 5, skipped 4 files; 0 chunks" ||
  fail "re-add of an unchanged folder must do nothing"

# --- search: text, JSON shape, -k, --path, modes ---
"$sov" kb search notes tomatoes | grep -q "garden.md:5-7" || fail "text search"
"$sov" kb search notes "the" -k 2 --json >"$tmp/s.json"
python3 - "$tmp/s.json" <<'PY' || fail "search --json shape: $(cat "$tmp/s.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d.keys()) == ["results"], d.keys()
r = d["results"]
assert 1 <= len(r) <= 2, len(r)
for x in r:
    assert list(x.keys()) == ["path", "lines", "score", "text"], x.keys()
    assert isinstance(x["path"], str) and isinstance(x["text"], str) and x["text"]
    assert isinstance(x["lines"], list) and len(x["lines"]) == 2 and all(isinstance(v, int) for v in x["lines"])
    assert x["lines"][0] <= x["lines"][1]
    assert isinstance(x["score"], (int, float))
assert all(r[i]["score"] >= r[i + 1]["score"] for i in range(len(r) - 1)), "best first"
PY
check_paths() {  # QUERY EXPECTED_BASENAMES... (sorted, unique) with extra search args in $extra
  local q=$1; shift
  set -f  # $extra holds globs for sov, not for the shell
  got=$("$sov" kb search notes "$q" -k 20 --json ${extra:-} | python3 -c '
import json, sys, os
print(" ".join(sorted({os.path.basename(x["path"]) for x in json.load(sys.stdin)["results"]})))')
  set +f
  [ "$got" = "$*" ] || fail "search '$q' ${extra:-}: got '$got', want '$*'"
}
extra= check_paths "kingfisher" birds.csv
extra= check_paths "fibonacci" fib.py
extra= check_paths "batter" page.html
extra= check_paths "scriptword"
extra= check_paths "zeppelin"
extra= check_paths 'Lisbon" OR AND (*' travel.rst
extra="--path *.md" check_paths "the" garden.md
extra="--path src/**" check_paths "the fibonacci Lisbon"  fib.py
"$sov" kb search notes x --mode vector 2>"$tmp/err" && fail "vector search without a model must fail"
grep -q "embedding model" "$tmp/err" || fail "vector error message"
"$sov" kb search notes x --mode nonsense 2>/dev/null && fail "an unknown mode must fail"

# --- incremental: modify, delete, rename, add ---
printf 'Travel\n======\n\nPack a paper map of Porto.\n' >"$f/notes/travel.rst"
rm "$f/birds.csv"
mv "$f/src/fib.py" "$f/src/sequence.py"
printf 'Origami cranes.\n' >"$f/notes/new.txt"
"$sov" kb add notes "$f" -q >"$tmp/add2.out"
grep -qx "added 1, updated 1, renamed 1, removed 1, unchanged 2, skipped 4 files; [0-9]* chunks" "$tmp/add2.out" ||
  fail "incremental add: $(cat "$tmp/add2.out")"
extra= check_paths "Lisbon"
extra= check_paths "Porto" travel.rst
extra= check_paths "kingfisher"
extra= check_paths "fibonacci" sequence.py
extra= check_paths "origami" new.txt

# --- status ---
"$sov" kb status notes >"$tmp/status"
grep -q "documents: *5" "$tmp/status" || fail "status: $(cat "$tmp/status")"
"$sov" kb status notes --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["documents"]==5 and d["embed_model"]==""' ||
  fail "status --json"
"$sov" kb status missing 2>/dev/null && fail "status of a missing base must fail"

# --- with an embedding model: vector and hybrid ---
"$sov" kb add sem "$f" -q >/dev/null
"$sov" kb status sem | grep -q "embedded chunks: *\([0-9]*\) of \1$" || fail "every chunk embedded: $("$sov" kb status sem)"
# A synthetic model's vectors carry no meaning, but a chunk's exact text finds that chunk.
text=$(printf 'Origami cranes.')
"$sov" kb search sem "$text" --mode vector --json | python3 -c '
import json, sys
r = json.load(sys.stdin)["results"]
assert r and r[0]["path"].endswith("new.txt") and abs(r[0]["score"] - 1) < 1e-3, r[:1]' || fail "vector search"
"$sov" kb search sem "Porto" --mode hybrid --json | python3 -c '
import json, sys
r = json.load(sys.stdin)["results"]
assert r and r[0]["path"].endswith("travel.rst"), r[:1]' || fail "hybrid search"

# --- ask: streamed answer, then the numbered sources ---
"$sov" kb ask sem "How much sun do tomatoes need?" -m "$chat_model" -n 16 --seed 1 -t 1 >"$tmp/ask.out" 2>/dev/null ||
  fail "ask"
grep -q "^Sources:$" "$tmp/ask.out" || fail "ask: no source list: $(cat "$tmp/ask.out")"
grep -q "^\[1\] $f/notes/garden.md:[0-9]*-[0-9]*$" "$tmp/ask.out" || fail "ask: first source: $(cat "$tmp/ask.out")"
"$sov" kb ask notes "tomatoes" 2>/dev/null | grep -q "^\[1\] .*garden.md" || fail "ask without a model lists sources"

# --- rm ---
"$sov" kb rm notes | grep -q "removed" || fail "rm"
"$sov" kb rm notes 2>/dev/null && fail "rm of a missing base must fail"
"$sov" kb rm ../sov 2>/dev/null && fail "rm with a hostile name must fail"
[ -d "$SOV_HOME/kb/sem" ] || fail "rm removed the wrong base"
"$sov" kb list | grep -q "^notes " && fail "notes still listed"
echo "kb CLI: all checks passed"
