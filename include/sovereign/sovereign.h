// libsovereign: the public C++ API for applications that embed a model.
//
//   auto model = sov::api::Model::load("model.gguf");          // weights memory-mapped
//   auto session = sov::api::Session::create(*model, {.n_ctx = 2048});
//   auto ids = (*model)->tokenize("Once upon a time");           // BOS added as the vocab says
//   (*session)->decode(ids);                                     // KV cache grows
//   std::span<const float> logits = (*session)->logits();        // [n_vocab] of the last token
//   (*session)->generate(ids, {.max_tokens = 64}, [](std::string_view text) { ...; return true; });
//
// Errors are sov::Status / sov::Result<T> values (sovereign/status.h); nothing throws.
// Thread-safety: a Model is immutable and may be shared by many Sessions on many threads;
// a Session is used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sovereign/status.h"
#include "sovereign/version.h"

namespace sov::api {

struct ModelInfo {
  std::string architecture;  // general.architecture, e.g. "llama"
  std::string name;          // general.name, or the file name
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  std::string chat_template;  // tokenizer.chat_template, or "" when the file has none
};

class Model {
 public:
  // Loads a GGUF model and its tokenizer; refuses malformed files and unsupported
  // architectures or tensor types with a message that names the problem.
  static Result<std::shared_ptr<const Model>> load(const std::string& path);
  ~Model();

  const ModelInfo& info() const;
  // Text to ids; add_special adds BOS/EOS as the vocabulary asks; parse_special lets
  // special-token text such as "<s>" become those tokens (never otherwise).
  std::vector<int32_t> tokenize(std::string_view text, bool add_special = true, bool parse_special = false) const;
  // Ids to text (valid UTF-8); skip_special drops control tokens such as BOS/EOS.
  std::string detokenize(std::span<const int32_t> ids, bool skip_special = true) const;
  bool is_end_of_generation(int32_t id) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct SessionParams {
  int32_t n_ctx = 0;      // 0: min(4096, the model's trained context)
  int32_t n_threads = 0;  // 0: physical cores
};

struct SamplingParams {
  float temperature = 0.8f;  // <= 0: greedy
  int32_t top_k = 40;
  float top_p = 0.9f;
  float min_p = 0.0f;
  float repeat_penalty = 1.0f;
  int64_t seed = -1;  // -1: random
};

struct GenerateParams {
  int32_t max_tokens = -1;  // -1: until end of generation or the context is full
  SamplingParams sampling;
  std::vector<std::string> stop;
};

struct GenerateStats {
  int32_t prompt_tokens = 0;
  int32_t cached_tokens = 0;  // prompt tokens reused from the session's cache
  int32_t generated_tokens = 0;
  double prompt_ms = 0;
  double generate_ms = 0;
  std::string done_reason;  // "stop", "length" or "cancelled"
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Model> model, SessionParams params = {});
  ~Session();

  // Appends ids to the session (after the ones already evaluated) and evaluates them.
  // Fails without changing the session when the context would overflow.
  Status decode(std::span<const int32_t> ids);
  // Logits [n_vocab] after the last decoded token.
  std::span<const float> logits() const;
  int32_t n_past() const;
  int32_t n_ctx() const;
  // Forgets everything after the first n evaluated tokens.
  void truncate(int32_t n);

  // Evaluates `prompt` (reusing the longest prefix already evaluated) and generates; each
  // text chunk (valid UTF-8, stop strings removed) goes to on_text, which returns false to stop.
  Result<GenerateStats> generate(std::span<const int32_t> prompt, const GenerateParams& params,
                                 const std::function<bool(std::string_view)>& on_text);

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sov::api
