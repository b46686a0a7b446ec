#include "server/grammar_constraint.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>

#include "base/log.h"
#include "grammar/json_schema.h"

namespace sov::server {

namespace {

using ojson = nlohmann::ordered_json;

std::vector<std::string> vocab_pieces(const tokenizer::Tokenizer& tok) {
  std::vector<std::string> pieces(static_cast<size_t>(tok.n_vocab()));
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    // Control tokens never appear in the text (the detokenizer drops them).
    if (!tok.is_special(id) && !tok.is_eog(id)) pieces[static_cast<size_t>(id)] = tok.piece(id);
  }
  return pieces;
}

// Limits for grammars that come from requests: generous for real schemas, small enough that
// a hostile one costs little.
grammar::Limits request_limits() {
  grammar::Limits l;
  l.max_text_bytes = 1u << 20;
  l.max_rules = 20000;
  l.max_elements = 500000;
  return l;
}

Result<std::shared_ptr<const grammar::Grammar>> from_schema(const ojson& schema, bool strict,
                                                            const char* what) {
  auto gbnf = grammar::json_schema_to_gbnf(schema);
  if (!gbnf) {
    if (strict) return Status::invalid_argument(fmt::format("{}: {}", what, gbnf.status().message()));
    // Best effort: any JSON of the schema's type.
    log::warn("{}: {}; output is constrained to JSON only", what, gbnf.status().message());
    const bool object =
        schema.is_object() && (schema.value("type", ojson()) == "object" || schema.contains("properties"));
    return compile_grammar(object ? grammar::json_object_gbnf() : grammar::json_value_gbnf());
  }
  auto g = compile_grammar(*gbnf);
  if (!g) return Status::invalid_argument(fmt::format("{}: {}", what, g.status().message()));
  return g;
}

}  // namespace

VocabIndex::VocabIndex(const tokenizer::Tokenizer& tok) : trie(vocab_pieces(tok)) {
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    if (tok.is_eog(id)) eog.push_back(id);
  }
}

std::shared_ptr<const VocabIndex> vocab_index(const std::shared_ptr<const tokenizer::Tokenizer>& tok) {
  struct Entry {
    std::weak_ptr<const tokenizer::Tokenizer> owner;
    std::shared_ptr<const VocabIndex> index;
  };
  static std::mutex mu;
  static std::vector<Entry> cache;
  std::lock_guard<std::mutex> lock(mu);
  // A weak_ptr keeps its control block, so an expired entry never matches a new tokenizer
  // that happens to reuse the address.
  std::erase_if(cache, [](const Entry& e) { return e.owner.expired(); });
  for (const Entry& e : cache) {
    if (!e.owner.owner_before(tok) && !tok.owner_before(e.owner)) return e.index;
  }
  const auto start = std::chrono::steady_clock::now();
  auto index = std::make_shared<const VocabIndex>(*tok);
  log::info("grammar: token trie of {} tokens ({} nodes) built in {:.1f} ms", tok->n_vocab(),
            index->trie.nodes().size(),
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  cache.push_back({tok, index});
  return index;
}

GrammarConstraint::GrammarConstraint(std::shared_ptr<const grammar::Grammar> grammar,
                                     std::shared_ptr<const VocabIndex> vocab)
    : matcher_(std::move(grammar)), vocab_(std::move(vocab)) {}

void GrammarConstraint::apply(std::span<float> logits) {
  constexpr float kNo = -std::numeric_limits<float>::infinity();
  const size_t n = std::min(logits.size(), vocab_->trie.n_tokens());
  eog_logits_.clear();
  for (int32_t id : vocab_->eog) eog_logits_.push_back(static_cast<size_t>(id) < n ? logits[id] : kNo);
  bool any = false;
  if (!ended_) {
    const std::vector<uint64_t>& mask = matcher_.allowed_tokens(vocab_->trie);
    for (size_t w = 0; w * 64 < n; ++w) {
      const uint64_t bits = mask[w];
      any = any || bits != 0;
      const size_t end = std::min(n, (w + 1) * 64);
      if (bits == ~uint64_t{0}) continue;
      for (size_t id = w * 64; id < end; ++id) {
        if (!((bits >> (id - w * 64)) & 1)) logits[id] = kNo;
      }
    }
  } else {
    std::fill(logits.begin(), logits.end(), kNo);
  }
  for (size_t id = n; id < logits.size(); ++id) logits[id] = kNo;  // rows beyond the vocabulary
  // End-of-generation ids are not in the trie: allowed only when the text is complete, or
  // when nothing else is (then the generation ends here instead of sampling garbage).
  const bool end_ok = ended_ || matcher_.is_complete() || !any;
  for (size_t i = 0; i < vocab_->eog.size(); ++i) {
    const size_t id = static_cast<size_t>(vocab_->eog[i]);
    if (id >= n) continue;
    logits[id] = !end_ok ? kNo : std::isfinite(eog_logits_[i]) ? eog_logits_[i] : 0.0f;
  }
}

void GrammarConstraint::accept(int32_t token) {
  if (ended_) return;
  if (std::find(vocab_->eog.begin(), vocab_->eog.end(), token) != vocab_->eog.end()) {
    ended_ = true;
    return;
  }
  if (token < 0 || static_cast<size_t>(token) >= vocab_->trie.n_tokens() ||
      !matcher_.accept(vocab_->trie.piece(static_cast<uint32_t>(token)))) {
    ended_ = true;  // cannot happen when apply() ran; stop instead of drifting
  }
}

Result<std::shared_ptr<const grammar::Grammar>> compile_grammar(const std::string& gbnf) {
  return grammar::Grammar::parse(gbnf, request_limits());
}

Result<std::shared_ptr<const grammar::Grammar>> ollama_format_grammar(const ojson& format) {
  if (format.is_null() || (format.is_string() && format.get<std::string>().empty())) {
    return std::shared_ptr<const grammar::Grammar>();
  }
  if (format.is_string()) {
    if (format.get<std::string>() != "json") {
      return Status::invalid_argument("field \"format\" must be \"json\" or a JSON schema object");
    }
    return compile_grammar(grammar::json_object_gbnf());
  }
  if (!format.is_object()) {
    return Status::invalid_argument("field \"format\" must be \"json\" or a JSON schema object");
  }
  return from_schema(format, /*strict=*/true, "format");
}

Result<std::shared_ptr<const grammar::Grammar>> openai_response_format_grammar(const ojson& rf) {
  if (!rf.is_object()) return Status::invalid_argument("response_format must be an object");
  auto type = rf.find("type");
  if (type == rf.end() || !type->is_string()) {
    return Status::invalid_argument("response_format.type must be text, json_object or json_schema");
  }
  const std::string t = type->get<std::string>();
  if (t == "text") return std::shared_ptr<const grammar::Grammar>();
  if (t == "json_object") return compile_grammar(grammar::json_object_gbnf());
  if (t != "json_schema") {
    return Status::invalid_argument("response_format.type must be text, json_object or json_schema");
  }
  auto js = rf.find("json_schema");
  if (js == rf.end() || !js->is_object()) {
    return Status::invalid_argument(
        "response_format json_schema needs \"json_schema\": {\"name\", \"schema\"}");
  }
  auto schema = js->find("schema");
  if (schema == js->end()) return compile_grammar(grammar::json_object_gbnf());  // OpenAI: any object
  if (!schema->is_object() && !schema->is_boolean()) {
    return Status::invalid_argument("response_format.json_schema.schema must be a JSON schema object");
  }
  auto strict = js->find("strict");
  if (strict != js->end() && !strict->is_boolean() && !strict->is_null()) {
    return Status::invalid_argument("response_format.json_schema.strict must be a boolean");
  }
  const bool is_strict = strict != js->end() && strict->is_boolean() && strict->get<bool>();
  return from_schema(*schema, is_strict, "response_format.json_schema.schema");
}

Result<std::shared_ptr<const grammar::Grammar>> tool_call_grammar(const ojson& tools) {
  ojson branches = ojson::array();
  bool strict = false;
  for (const auto& t : tools) {
    const ojson& fn = t.at("function");
    ojson params = fn.contains("parameters") && !fn["parameters"].is_null() ? fn["parameters"]
                                                                            : ojson{{"type", "object"}};
    if (fn.contains("strict") && fn["strict"] == true) strict = true;
    branches.push_back({{"type", "object"},
                        {"properties", {{"name", {{"const", fn.at("name")}}}, {"arguments", params}}},
                        {"required", {"name", "arguments"}}});
  }
  if (branches.empty()) return Status::invalid_argument("a forced tool call needs tools");
  ojson schema = branches.size() == 1 ? branches[0] : ojson{{"anyOf", branches}};
  auto gbnf = grammar::json_schema_to_gbnf(schema);
  if (gbnf) {
    auto g = compile_grammar(*gbnf);
    if (g) return g;
    gbnf = g.status();
  }
  if (strict) return Status::invalid_argument("tool parameters: " + gbnf.status().message());
  // Best effort: the right names with any object as arguments.
  log::warn("tool parameters: {}; arguments are constrained to a JSON object only", gbnf.status().message());
  for (auto& b : branches) b["properties"]["arguments"] = {{"type", "object"}};
  schema = branches.size() == 1 ? branches[0] : ojson{{"anyOf", branches}};
  SOV_ASSIGN_OR_RETURN(std::string loose, grammar::json_schema_to_gbnf(schema));
  return compile_grammar(loose);
}

}  // namespace sov::server
