// Structured output for the server: turns request fields (Ollama's "format", OpenAI's
// "response_format" and a forced "tool_choice") into a grammar, and enforces that grammar
// during sampling as a scheduler::LogitsConstraint.
//
// GrammarConstraint: before each sampling step, every token the grammar does not allow next
// gets logit -inf; end-of-generation tokens are allowed only when the text so far is
// complete. If no token is allowed (a grammar limit was hit) only end-of-generation is left,
// so the generation ends cleanly instead of sampling garbage. One instance per job, used only
// by the scheduler's worker thread.
//
// VocabIndex (a TokenTrie of the vocabulary's pieces, control tokens left out, and the
// end-of-generation ids) is built once per tokenizer and shared: vocab_index() caches it
// for as long as the tokenizer is alive. Thread-safe.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "grammar/grammar.h"
#include "grammar/matcher.h"
#include "grammar/token_trie.h"
#include "scheduler/job.h"
#include "tokenizer/tokenizer.h"

namespace sov::server {

struct VocabIndex {
  explicit VocabIndex(const tokenizer::Tokenizer& tok);
  grammar::TokenTrie trie;
  std::vector<int32_t> eog;  // end-of-generation ids
};

std::shared_ptr<const VocabIndex> vocab_index(const std::shared_ptr<const tokenizer::Tokenizer>& tok);

class GrammarConstraint : public scheduler::LogitsConstraint {
 public:
  GrammarConstraint(std::shared_ptr<const grammar::Grammar> grammar, std::shared_ptr<const VocabIndex> vocab);
  void apply(std::span<float> logits) override;
  void accept(int32_t token) override;

  bool is_complete() const { return matcher_.is_complete(); }

 private:
  grammar::Matcher matcher_;
  std::shared_ptr<const VocabIndex> vocab_;
  bool ended_ = false;             // end-of-generation was sampled, or a token the grammar refused
  std::vector<float> eog_logits_;  // scratch
};

// Compiles GBNF text with the limits used for request-supplied grammars.
Result<std::shared_ptr<const grammar::Grammar>> compile_grammar(const std::string& gbnf);

// Ollama "format": "json" (any JSON object) or a JSON schema object. nullptr when absent
// ("" or null).
Result<std::shared_ptr<const grammar::Grammar>> ollama_format_grammar(const nlohmann::ordered_json& format);

// OpenAI "response_format": {"type": "text" | "json_object" | "json_schema", "json_schema":
// {"name", "schema", "strict"}}. nullptr for text. A schema the converter cannot enforce is
// a 400 with "strict": true, and falls back to any JSON value of the schema's type (logged)
// otherwise.
Result<std::shared_ptr<const grammar::Grammar>> openai_response_format_grammar(
    const nlohmann::ordered_json& response_format);

// A forced tool call: one JSON object {"name": <one of the tools>, "arguments": <that
// tool's parameters schema>} (the plain-JSON form chat::ToolCallParser recognises). Each
// tool is {"type": "function", "function": {"name", "parameters", "strict"}}.
Result<std::shared_ptr<const grammar::Grammar>> tool_call_grammar(const nlohmann::ordered_json& tools);

}  // namespace sov::server
