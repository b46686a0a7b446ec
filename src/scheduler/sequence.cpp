#include "scheduler/sequence.h"

#include <fmt/format.h>

#include <chrono>

#include "sampling/stop_matcher.h"
#include "tokenizer/stream_detokenizer.h"

namespace sov::scheduler {
namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

Sequence::Sequence(std::unique_ptr<engine::Context> context) : ctx_(std::move(context)) {}

int32_t Sequence::common_prefix(std::span<const int32_t> prompt) const {
  size_t n = 0;
  while (n < prompt.size() && n < tokens_.size() && prompt[n] == tokens_[n]) ++n;
  return static_cast<int32_t>(n);
}

void Sequence::truncate(int32_t n) {
  if (n < 0 || n >= static_cast<int32_t>(tokens_.size())) return;
  tokens_.resize(static_cast<size_t>(n));
  ctx_->truncate(n);
}

Result<int32_t> Sequence::prefill(std::span<const int32_t> prompt) {
  if (prompt.empty()) return Status::invalid_argument("the prompt is empty");
  if (static_cast<int64_t>(prompt.size()) > ctx_->n_ctx()) {
    return Status::out_of_range(
        fmt::format("the prompt has {} tokens but the context holds {}; raise the context "
                    "length (num_ctx) or shorten the prompt",
                    prompt.size(), ctx_->n_ctx()));
  }
  // Keep the shared prefix, but always evaluate at least the last prompt token so that its
  // logits are fresh.
  int32_t keep = std::min<int32_t>(common_prefix(prompt), static_cast<int32_t>(prompt.size()) - 1);
  ctx_->truncate(keep);
  tokens_.resize(keep);
  Status s = ctx_->decode(prompt.subspan(keep));
  if (!s) {
    ctx_->truncate(keep);
    return s;
  }
  tokens_.insert(tokens_.end(), prompt.begin() + keep, prompt.end());
  return keep;
}

Result<GenerateResult> Sequence::run(std::span<const int32_t> prompt, const tokenizer::Tokenizer& tok,
                                     const GenerateParams& params,
                                     const std::function<bool(std::string_view)>& on_text) {
  GenerateResult result;
  result.n_prompt = static_cast<int32_t>(prompt.size());
  auto t0 = std::chrono::steady_clock::now();
  SOV_ASSIGN_OR_RETURN(result.n_cached, prefill(prompt));
  result.prompt_ms = ms_since(t0);

  sampling::Sampler sampler(params.sampler, ctx_->model().hparams().n_vocab);
  for (int32_t id : prompt) sampler.accept(id);
  sampling::StopMatcher stops(params.stop);
  tokenizer::StreamDetokenizer detok(tok, /*skip_special=*/true, /*at_start=*/false);
  bool keep_going = true;
  auto emit = [&](const std::string& text) {
    if (text.empty() || !keep_going) return;
    auto out = stops.feed(text);
    if (!out.text.empty() && !on_text(out.text)) keep_going = false;
    if (out.stopped) result.done_reason = "stop";
  };

  t0 = std::chrono::steady_clock::now();
  while (keep_going && result.done_reason.empty()) {
    if (params.max_tokens >= 0 && result.n_generated >= params.max_tokens) {
      result.done_reason = "length";
      break;
    }
    int32_t id = sampler.sample(ctx_->logits());
    sampler.accept(id);
    if (!params.ignore_eos && tok.is_eog(id)) {
      result.done_reason = "stop";
      break;
    }
    result.tokens.push_back(id);
    ++result.n_generated;
    emit(detok.push(id));
    if (!result.done_reason.empty() || !keep_going) break;
    if (ctx_->n_past() >= ctx_->n_ctx()) {
      result.done_reason = "length";
      break;
    }
    SOV_RETURN_IF_ERROR(ctx_->decode(std::span<const int32_t>(&id, 1)));
    tokens_.push_back(id);
  }
  // Release what the detokenizer and the stop matcher still hold (unless a stop string ended it).
  if (keep_going && !stops.stopped()) {
    emit(detok.flush());
    std::string tail = stops.flush();
    if (keep_going && !tail.empty()) keep_going = on_text(tail);
  }
  if (!keep_going) result.done_reason = "cancelled";
  result.generate_ms = ms_since(t0);
  return result;
}

}  // namespace sov::scheduler
