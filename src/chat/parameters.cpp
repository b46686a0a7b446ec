#include "chat/parameters.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

namespace sov::chat {
namespace {

using ojson = nlohmann::ordered_json;

constexpr size_t kMaxStops = 16;

constexpr std::array kParams = {
    ParamInfo{"temperature", ParamKind::kFloat, "randomness; 0 always picks the most likely token"},
    ParamInfo{"top_k", ParamKind::kInt, "sample among the k most likely tokens (0: off)"},
    ParamInfo{"top_p", ParamKind::kFloat, "sample among the tokens of this probability mass (1: off)"},
    ParamInfo{"min_p", ParamKind::kFloat, "drop tokens below this fraction of the best one (0: off)"},
    ParamInfo{"typical_p", ParamKind::kFloat, "locally typical sampling (1: off)"},
    ParamInfo{"repeat_penalty", ParamKind::kFloat, "penalty for repeated tokens (1: off)"},
    ParamInfo{"repeat_last_n", ParamKind::kInt, "how far back the repeat penalty looks (-1: all)"},
    ParamInfo{"presence_penalty", ParamKind::kFloat, "penalty for tokens already present"},
    ParamInfo{"frequency_penalty", ParamKind::kFloat, "penalty growing with a token's count"},
    ParamInfo{"seed", ParamKind::kInt, "random seed (-1: random)"},
    ParamInfo{"num_predict", ParamKind::kInt, "most tokens per answer (-1: no limit)"},
    ParamInfo{"num_ctx", ParamKind::kInt, "context length in tokens"},
    ParamInfo{"stop", ParamKind::kStringList, "stop strings, separated by spaces (JSON strings allowed)"},
};

const ParamInfo* find_param(std::string_view name) {
  for (const auto& p : kParams)
    if (p.name == name) return &p;
  return nullptr;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string known_names() {
  std::string out;
  for (const auto& p : kParams) out += (out.empty() ? "" : ", ") + std::string(p.name);
  return out;
}

// Splits stop strings: words separated by white space, or JSON strings.
Result<std::vector<std::string>> split_stops(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size()) break;
    if (text[i] == '"') {
      size_t j = i + 1;
      while (j < text.size() && text[j] != '"') j += text[j] == '\\' ? 2 : 1;
      if (j >= text.size()) return Status::invalid_argument("stop: unterminated quoted string");
      ojson parsed = ojson::parse(text.substr(i, j + 1 - i), nullptr, false);
      if (!parsed.is_string()) return Status::invalid_argument("stop: bad quoted string");
      out.push_back(parsed.get<std::string>());
      i = j + 1;
    } else {
      size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
      out.emplace_back(text.substr(i, j - i));
      i = j;
    }
  }
  if (out.empty()) return Status::invalid_argument("stop: give at least one stop string");
  if (out.size() > kMaxStops)
    return Status::invalid_argument(fmt::format("stop: at most {} strings", kMaxStops));
  for (const auto& s : out)
    if (s.empty()) return Status::invalid_argument("stop: a stop string cannot be empty");
  return out;
}

Result<ojson> parse_value(const ParamInfo& p, std::string_view text) {
  if (p.kind == ParamKind::kStringList) {
    SOV_ASSIGN_OR_RETURN(auto stops, split_stops(text));
    return ojson(stops);
  }
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (p.kind == ParamKind::kInt) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || ptr != last || text.empty())
      return Status::invalid_argument(
          fmt::format("{}: \"{}\" is not a whole number", p.name, text.substr(0, 40)));
    return ojson(v);
  }
  double v = 0;
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (ec != std::errc() || ptr != last || text.empty() || !std::isfinite(v))
    return Status::invalid_argument(fmt::format("{}: \"{}\" is not a number", p.name, text.substr(0, 40)));
  return ojson(v);
}

// Range checks shared by set_parameter and generation_settings.
Status check_value(std::string_view name, const ojson& v) {
  auto number = [&] { return v.get<double>(); };
  if (name == "num_ctx" && (number() < 0 || number() > (1 << 22)))
    return Status::invalid_argument("num_ctx must be between 0 (default) and 4194304");
  if (name == "num_predict" && number() < -2)
    return Status::invalid_argument("num_predict must be -1 or more");
  if (name == "temperature" && number() < 0) return Status::invalid_argument("temperature must be 0 or more");
  return Status::ok();
}

bool kind_matches(ParamKind kind, const ojson& v) {
  switch (kind) {
    case ParamKind::kInt:
      return v.is_number_integer() ||
             (v.is_number_float() && std::isfinite(v.get<double>()) &&
              v.get<double>() == std::floor(v.get<double>()) && std::fabs(v.get<double>()) < 9.2e18);
    case ParamKind::kFloat: return v.is_number() && std::isfinite(v.get<double>());
    case ParamKind::kStringList:
      if (v.is_string()) return true;
      if (!v.is_array()) return false;
      for (const auto& s : v)
        if (!s.is_string()) return false;
      return true;
  }
  return false;
}

int64_t as_int(const ojson& v) {
  return v.is_number_integer() ? v.get<int64_t>() : static_cast<int64_t>(v.get<double>());
}

int32_t clamp_i32(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX));
}

}  // namespace

std::span<const ParamInfo> known_parameters() {
  return kParams;
}

Status set_parameter(ojson* params, std::string_view name, std::string_view value) {
  const ParamInfo* p = find_param(trim(name));
  if (!p) {
    return Status::invalid_argument(
        fmt::format("unknown parameter \"{}\"; known: {}", trim(name).substr(0, 40), known_names()));
  }
  value = trim(value);
  if (value.empty()) return Status::invalid_argument(fmt::format("{}: give a value", p->name));
  SOV_ASSIGN_OR_RETURN(ojson v, parse_value(*p, value));
  SOV_RETURN_IF_ERROR(check_value(p->name, v));
  ojson next = params->is_object() ? *params : ojson::object();
  next[std::string(p->name)] = std::move(v);
  // Refuse what the sampler would refuse now rather than at the next answer.
  SOV_RETURN_IF_ERROR(generation_settings(next).status());
  *params = std::move(next);
  return Status::ok();
}

Status set_parameter_assignment(ojson* params, std::string_view assignment) {
  size_t split = assignment.find('=');
  if (split == std::string_view::npos) split = assignment.find(' ');
  if (split == std::string_view::npos)
    return Status::invalid_argument(fmt::format("\"{}\": expected NAME=VALUE", assignment.substr(0, 40)));
  return set_parameter(params, assignment.substr(0, split), assignment.substr(split + 1));
}

Result<GenerationSettings> generation_settings(const ojson& params) {
  GenerationSettings out;
  if (params.is_null()) return out;
  if (!params.is_object()) return Status::invalid_argument("parameters must be an object");
  for (const auto& [name, v] : params.items()) {
    const ParamInfo* p = find_param(name);
    if (!p) continue;  // options for other runtimes or hardware
    if (!kind_matches(p->kind, v))
      return Status::invalid_argument(fmt::format("parameter {} has the wrong type", name));
    if (p->kind != ParamKind::kStringList) SOV_RETURN_IF_ERROR(check_value(name, v));
    auto& s = out.sampler;
    if (name == "temperature")
      s.temperature = v.get<float>();
    else if (name == "top_k")
      s.top_k = clamp_i32(as_int(v));
    else if (name == "top_p")
      s.top_p = v.get<float>();
    else if (name == "min_p")
      s.min_p = v.get<float>();
    else if (name == "typical_p")
      s.typical_p = v.get<float>();
    else if (name == "repeat_penalty")
      s.repeat_penalty = v.get<float>();
    else if (name == "repeat_last_n")
      s.repeat_last_n = clamp_i32(as_int(v));
    else if (name == "presence_penalty")
      s.presence_penalty = v.get<float>();
    else if (name == "frequency_penalty")
      s.frequency_penalty = v.get<float>();
    else if (name == "seed")
      s.seed = as_int(v) < 0 ? sampling::SamplerParams::kRandomSeed : static_cast<uint64_t>(as_int(v));
    else if (name == "num_predict")
      out.num_predict = as_int(v) < 0 ? -1 : clamp_i32(as_int(v));
    else if (name == "num_ctx")
      out.num_ctx = clamp_i32(as_int(v));
    else if (name == "stop") {
      out.stop.clear();
      if (v.is_string())
        out.stop.push_back(v.get<std::string>());
      else
        for (const auto& x : v) out.stop.push_back(x.get<std::string>());
      std::erase(out.stop, std::string());
    }
  }
  SOV_RETURN_IF_ERROR(out.sampler.validate());
  return out;
}

}  // namespace sov::chat
