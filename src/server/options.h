// Generation options from requests: Ollama's `options` object and OpenAI's top-level
// sampling fields, into one GenOptions. Every known option is type-checked (a wrong type
// is a 400 naming the field); options that only tune hardware (num_gpu, use_mmap, ...) are
// accepted and ignored; unknown options are ignored as Ollama does.
//
// Defaults differ by API: Ollama's (temperature 0.8, top_k 40, top_p 0.9, repeat_penalty
// 1.1) for /api/*, OpenAI's (temperature 1, top_p 1, no top_k, no repeat penalty) for /v1/*.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "sampling/sampler.h"
#include "server/http_util.h"

namespace sov::server {

struct GenOptions {
  sampling::SamplerParams sampler;
  int32_t num_predict = -1;  // -1: until end of generation or context
  std::vector<std::string> stop;
  int32_t num_ctx = 0;    // 0: server default
  bool truncate = false;  // keep the end of a too-long prompt instead of failing
};

GenOptions ollama_defaults();
GenOptions openai_defaults();

// Applies an Ollama `options` object.
Status apply_ollama_options(const ojson& options, GenOptions* out);

// Applies OpenAI request fields (temperature, top_p, presence/frequency_penalty, seed, stop,
// max_tokens/max_completion_tokens, logit_bias) and the extensions num_ctx, truncate and
// options (an Ollama options object, applied last).
Status apply_openai_params(const ojson& body, GenOptions* out);

// A `stop` value: a string or an array of strings (at most 16).
Result<std::vector<std::string>> parse_stop(const ojson& value);

}  // namespace sov::server
