// Grounding chat requests in a knowledge base: the "knowledge" extension of /api/chat and
// /v1/chat/completions (docs/api.md), served by the same knowledge-base service as /api/kb.
//
//   "knowledge": {"base": NAME, "k": 5, "mode": "keyword"|"vector"|"hybrid",
//                 "path": GLOB, "budget": TOKENS}
//
// retrieve_knowledge() validates the field (kInvalidArgument -> 400), opens the base
// (kNotFound -> 404) and searches it with the text of the last user message.
// ground_messages() then puts the numbered sources, under the token budget, into the system
// message (appended to the request's own system message, or a new first message), and the
// route returns sources_json() with its answer.
//
// Thread-safe: each call opens its own SQLite connection; embedding models are shared.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kb/answer.h"
#include "kb/retrieve.h"
#include "server/http_util.h"
#include "server/server.h"

namespace sov::server {

struct KnowledgeRequest {
  std::string base;
  std::string question;
  int32_t budget = 0;  // tokens; 0: half the context (at most 2048)
  std::vector<kb::SearchHit> hits;
};

// Nullopt when the body has no "knowledge" (or it is null).
Result<std::optional<KnowledgeRequest>> retrieve_knowledge(ServerState& state, const ojson& body,
                                                           const ojson& messages);

// Rewrites `messages` to carry the grounded context; returns the sources it used.
std::vector<kb::Source> ground_messages(const KnowledgeRequest& request, int32_t n_ctx,
                                        const kb::TokenCounter& count_tokens, ojson* messages);

// Both steps for a chat route once the model is leased: grounds `messages` (token counts
// with the model's tokenizer) and returns sources_json(), or null when `request` is empty.
json apply_knowledge(const std::optional<KnowledgeRequest>& request, const Runner& runner, ojson* messages);

// [{"index": 1, "path": ..., "lines": [first, last], "heading": ..., "score": ...}]
json sources_json(const std::vector<kb::Source>& sources, const std::vector<kb::SearchHit>& hits);

}  // namespace sov::server
