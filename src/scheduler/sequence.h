// Sequence: one conversation's state on one engine Context — the tokens in its KV cache —
// and the generation loop that runs a prompt to completion.
//
// run() reuses the longest cached prefix of the new prompt (the prefix cache of a slot),
// evaluates the rest in micro-batches, then samples tokens until end-of-generation, a stop
// string, the token budget, the context end, or until on_text returns false (the client went
// away). Text reaches on_text as valid UTF-8 chunks with stop strings removed.
//
// A Sequence is used by one thread at a time. The Tokenizer must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/context.h"
#include "sampling/sampler.h"
#include "tokenizer/tokenizer.h"

namespace sov::scheduler {

struct GenerateParams {
  sampling::SamplerParams sampler;
  int32_t max_tokens = -1;  // -1: until end-of-generation or the context is full
  std::vector<std::string> stop;
  bool ignore_eos = false;
};

struct GenerateResult {
  int32_t n_prompt = 0;     // prompt tokens
  int32_t n_cached = 0;     // of which reused from the cache
  int32_t n_generated = 0;  // sampled tokens
  double prompt_ms = 0;
  double generate_ms = 0;
  std::string done_reason;      // "stop" (EOS or stop string), "length", "cancelled"
  std::vector<int32_t> tokens;  // the generated ids
};

class Sequence {
 public:
  explicit Sequence(std::unique_ptr<engine::Context> context);

  // Runs `prompt` and generates. Fails (without generating) when the prompt does not fit
  // the context; the caller decides whether to truncate. on_text returns false to stop.
  Result<GenerateResult> run(std::span<const int32_t> prompt, const tokenizer::Tokenizer& tok,
                             const GenerateParams& params,
                             const std::function<bool(std::string_view)>& on_text);

  // Evaluates `prompt` into the cache (reusing the cached prefix) without sampling.
  // Returns the number of tokens reused.
  Result<int32_t> prefill(std::span<const int32_t> prompt);

  // Forgets every cached token after the first n.
  void truncate(int32_t n);

  engine::Context& context() { return *ctx_; }
  const std::vector<int32_t>& cached_tokens() const { return tokens_; }
  // Length of the common prefix of `prompt` and the cached tokens.
  int32_t common_prefix(std::span<const int32_t> prompt) const;

 private:
  std::unique_ptr<engine::Context> ctx_;
  std::vector<int32_t> tokens_;  // ids whose keys/values are in the cache, in order
};

}  // namespace sov::scheduler
