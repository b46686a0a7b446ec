// Grammar mask speed on a real vocabulary: trie build time, then the time to compute the
// allowed-token mask at each step of a random walk through JSON (JSON mode and a schema).
//   grammar_bench VOCAB.gguf [steps]
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gguf/file.h"
#include "grammar/json_schema.h"
#include "grammar/matcher.h"
#include "grammar/token_trie.h"
#include "tokenizer/tokenizer.h"

using namespace sov;
using Clock = std::chrono::steady_clock;

static double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

static void walk(const char* label, const std::string& gbnf, const grammar::TokenTrie& trie, int steps,
                 bool cache_masks) {
  auto g = grammar::Grammar::parse(gbnf);
  if (!g) {
    std::fprintf(stderr, "%s: %s\n", label, g.status().message().c_str());
    return;
  }
  grammar::MatcherLimits limits;
  if (!cache_masks) limits.max_cached_masks = 0;  // every step walks the trie
  grammar::Matcher m(*g, limits);
  std::mt19937 rng(42);
  std::vector<double> times;
  std::string text;
  for (int step = 0; step < steps; ++step) {
    auto t = Clock::now();
    const auto& mask = m.allowed_tokens(trie);
    times.push_back(ms_since(t));
    std::vector<uint32_t> ids;
    for (uint32_t id = 0; id < trie.n_tokens(); ++id) {
      if ((mask[id >> 6] >> (id & 63)) & 1) ids.push_back(id);
    }
    if (ids.empty()) break;
    // Every 4th step the shortest allowed token, so that the walk moves through the structure.
    uint32_t id = ids[rng() % ids.size()];
    if (step % 4 == 3) {
      for (uint32_t c : ids) {
        if (trie.piece(c).size() < trie.piece(id).size()) id = c;
      }
    }
    m.accept(trie.piece(id));
    text += trie.piece(id);
  }
  double sum = 0, max = 0;
  for (double t : times) {
    sum += t;
    max = std::max(max, t);
  }
  std::printf("%-12s steps %4zu  mask mean %7.3f ms  max %7.3f ms  (first %7.3f ms)\n", label, times.size(),
              sum / static_cast<double>(times.size()), max, times.empty() ? 0.0 : times[0]);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: grammar_bench VOCAB.gguf [steps]\n");
    return 2;
  }
  const int steps = argc > 2 ? std::atoi(argv[2]) : 200;
  auto file = gguf::File::open(argv[1]);
  if (!file) {
    std::fprintf(stderr, "%s\n", file.status().message().c_str());
    return 1;
  }
  auto tok = tokenizer::Tokenizer::from_gguf(*file);
  if (!tok) {
    std::fprintf(stderr, "%s\n", tok.status().message().c_str());
    return 1;
  }
  std::vector<std::string> pieces;
  for (int32_t id = 0; id < (*tok)->n_vocab(); ++id) {
    pieces.push_back((*tok)->is_special(id) ? std::string() : (*tok)->piece(id));
  }
  auto t = Clock::now();
  grammar::TokenTrie trie(pieces);
  std::printf("vocab %zu tokens, trie %zu nodes, built in %.1f ms\n", pieces.size(), trie.nodes().size(),
              ms_since(t));
  auto schema = nlohmann::ordered_json::parse(R"({"type": "object", "properties": {
      "name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 150},
      "email": {"type": "string", "pattern": "^[a-z0-9.]+@[a-z]+\\.[a-z]{2,3}$"},
      "tags": {"type": "array", "items": {"type": "string", "maxLength": 20}}},
      "required": ["name", "age", "email", "tags"]})");
  auto gbnf = grammar::json_schema_to_gbnf(schema);
  for (bool cache : {true, false}) {
    std::printf("%s\n", cache ? "masks cached per state:" : "no mask cache (trie walk every step):");
    walk("json-object", grammar::json_object_gbnf(), trie, steps, cache);
    if (gbnf) walk("schema", *gbnf, trie, steps, cache);
  }
  return 0;
}
