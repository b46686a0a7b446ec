#include "server/options.h"

#include <fmt/format.h>

#include <climits>

namespace sov::server {
namespace {

constexpr int32_t kMaxCtx = 1 << 24;

// Options that tune the runtime rather than the output: accepted, ignored.
constexpr const char* kIgnored[] = {
    "num_keep",   "numa",           "num_batch",           "num_gpu",
    "main_gpu",   "low_vram",       "vocab_only",          "use_mmap",
    "use_mlock",  "num_thread",     "penalize_newline",    "f16_kv",
    "logits_all", "embedding_only", "rope_frequency_base", "rope_frequency_scale"};

Status set_float(const ojson& obj, const char* key, float* out) {
  SOV_ASSIGN_OR_RETURN(auto v, get_number(obj, key));
  if (v) *out = static_cast<float>(*v);
  return Status::ok();
}

Status set_int(const ojson& obj, const char* key, int64_t lo, int64_t hi, int32_t* out) {
  SOV_ASSIGN_OR_RETURN(auto v, get_int(obj, key, lo, hi));
  if (v) *out = static_cast<int32_t>(*v);
  return Status::ok();
}

Status set_seed(const ojson& obj, const char* key, sampling::SamplerParams* p) {
  SOV_ASSIGN_OR_RETURN(auto v, get_int(obj, key, INT64_MIN, INT64_MAX));
  if (v) p->seed = *v < 0 ? sampling::SamplerParams::kRandomSeed : static_cast<uint64_t>(*v);
  return Status::ok();
}

}  // namespace

GenOptions ollama_defaults() {
  return GenOptions{};
}  // SamplerParams carries Ollama's defaults

GenOptions openai_defaults() {
  GenOptions o;
  o.sampler.temperature = 1.0f;
  o.sampler.top_p = 1.0f;
  o.sampler.top_k = 0;
  o.sampler.repeat_penalty = 1.0f;
  return o;
}

Result<std::vector<std::string>> parse_stop(const ojson& value) {
  std::vector<std::string> out;
  if (value.is_null()) return out;
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
  } else if (value.is_array()) {
    for (const auto& s : value) {
      if (!s.is_string())
        return Status::invalid_argument("field \"stop\" must be a string or an array of strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    return Status::invalid_argument("field \"stop\" must be a string or an array of strings");
  }
  if (out.size() > 16) return Status::invalid_argument("field \"stop\" has more than 16 entries");
  return out;
}

Status apply_ollama_options(const ojson& o, GenOptions* out) {
  auto& p = out->sampler;
  SOV_RETURN_IF_ERROR(set_float(o, "temperature", &p.temperature));
  SOV_RETURN_IF_ERROR(set_int(o, "top_k", INT32_MIN, INT32_MAX, &p.top_k));
  SOV_RETURN_IF_ERROR(set_float(o, "top_p", &p.top_p));
  SOV_RETURN_IF_ERROR(set_float(o, "min_p", &p.min_p));
  SOV_RETURN_IF_ERROR(set_float(o, "typical_p", &p.typical_p));
  SOV_RETURN_IF_ERROR(set_float(o, "repeat_penalty", &p.repeat_penalty));
  SOV_RETURN_IF_ERROR(set_float(o, "presence_penalty", &p.presence_penalty));
  SOV_RETURN_IF_ERROR(set_float(o, "frequency_penalty", &p.frequency_penalty));
  SOV_RETURN_IF_ERROR(set_int(o, "repeat_last_n", -1, INT32_MAX, &p.repeat_last_n));
  SOV_RETURN_IF_ERROR(set_seed(o, "seed", &p));
  SOV_RETURN_IF_ERROR(set_int(o, "num_predict", INT32_MIN, INT32_MAX, &out->num_predict));
  if (out->num_predict < -1) out->num_predict = -1;  // Ollama: -2 "fill the context" is the same here
  SOV_RETURN_IF_ERROR(set_int(o, "num_ctx", 1, kMaxCtx, &out->num_ctx));
  if (auto it = o.find("stop"); it != o.end()) {
    SOV_ASSIGN_OR_RETURN(out->stop, parse_stop(*it));
  }
  SOV_ASSIGN_OR_RETURN(auto mirostat, get_int(o, "mirostat", 0, 2));
  if (mirostat && *mirostat != 0) {
    return Status::invalid_argument(
        "option \"mirostat\" is not supported; use temperature, top_k, top_p or min_p");
  }
  for (const char* key : {"mirostat_tau", "mirostat_eta"}) SOV_RETURN_IF_ERROR(get_number(o, key).status());
  for (const char* key : kIgnored) {
    auto it = o.find(key);
    if (it != o.end() && !(it->is_number() || it->is_boolean() || it->is_null())) {
      return Status::invalid_argument(fmt::format("option \"{}\" must be a number or a boolean", key));
    }
  }
  return Status::ok();
}

Status apply_openai_params(const ojson& body, GenOptions* out) {
  auto& p = out->sampler;
  SOV_RETURN_IF_ERROR(set_float(body, "temperature", &p.temperature));
  if (p.temperature < 0 || p.temperature > 2) {
    return Status::invalid_argument("field \"temperature\" must be between 0 and 2");
  }
  SOV_RETURN_IF_ERROR(set_float(body, "top_p", &p.top_p));
  SOV_RETURN_IF_ERROR(set_float(body, "presence_penalty", &p.presence_penalty));
  SOV_RETURN_IF_ERROR(set_float(body, "frequency_penalty", &p.frequency_penalty));
  if (p.presence_penalty < -2 || p.presence_penalty > 2 || p.frequency_penalty < -2 ||
      p.frequency_penalty > 2) {
    return Status::invalid_argument("presence_penalty and frequency_penalty must be between -2 and 2");
  }
  if (p.presence_penalty != 0 || p.frequency_penalty != 0)
    p.repeat_last_n = -1;  // OpenAI counts the whole output
  SOV_RETURN_IF_ERROR(set_seed(body, "seed", &p));
  SOV_RETURN_IF_ERROR(set_int(body, "max_tokens", 0, INT32_MAX, &out->num_predict));
  SOV_RETURN_IF_ERROR(set_int(body, "max_completion_tokens", 0, INT32_MAX, &out->num_predict));
  if (auto it = body.find("stop"); it != body.end()) {
    SOV_ASSIGN_OR_RETURN(out->stop, parse_stop(*it));
    if (out->stop.size() > 4) return Status::invalid_argument("field \"stop\" has more than 4 entries");
  }
  SOV_ASSIGN_OR_RETURN(auto bias, get_object(body, "logit_bias"));
  if (bias) {
    for (auto& [key, value] : bias->items()) {
      int64_t id;
      try {
        size_t used = 0;
        id = std::stoll(key, &used);
        if (used != key.size() || id < 0 || id > INT32_MAX) throw std::invalid_argument("id");
      } catch (...) {
        return Status::invalid_argument(
            fmt::format("logit_bias: \"{}\" is not a token id", key.substr(0, 20)));
      }
      if (!value.is_number() || value.get<double>() < -100 || value.get<double>() > 100) {
        return Status::invalid_argument("logit_bias values must be numbers between -100 and 100");
      }
      double b = value.get<double>();
      p.logit_bias[static_cast<int32_t>(id)] =
          b <= -100 ? -std::numeric_limits<float>::infinity() : static_cast<float>(b);
    }
  }
  // Extensions: the context length and prompt truncation, and Ollama's options object.
  SOV_RETURN_IF_ERROR(set_int(body, "num_ctx", 1, kMaxCtx, &out->num_ctx));
  SOV_ASSIGN_OR_RETURN(auto truncate, get_bool(body, "truncate"));
  if (truncate) out->truncate = *truncate;
  SOV_ASSIGN_OR_RETURN(auto options, get_object(body, "options"));
  if (options) SOV_RETURN_IF_ERROR(apply_ollama_options(*options, out));
  return Status::ok();
}

}  // namespace sov::server
