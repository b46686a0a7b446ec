#include "store/params.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "base/utf8.h"

namespace sov::store {
namespace {

using nlohmann::ordered_json;

struct ParamDef {
  std::string_view name;
  ParamType type;
};

// Ollama's api.Options and runner options (the names a Modelfile may set).
constexpr ParamDef kParams[] = {
    {"num_keep", ParamType::kInt},
    {"seed", ParamType::kInt},
    {"num_predict", ParamType::kInt},
    {"top_k", ParamType::kInt},
    {"top_p", ParamType::kFloat},
    {"min_p", ParamType::kFloat},
    {"typical_p", ParamType::kFloat},
    {"tfs_z", ParamType::kFloat},
    {"repeat_last_n", ParamType::kInt},
    {"temperature", ParamType::kFloat},
    {"repeat_penalty", ParamType::kFloat},
    {"presence_penalty", ParamType::kFloat},
    {"frequency_penalty", ParamType::kFloat},
    {"mirostat", ParamType::kInt},
    {"mirostat_tau", ParamType::kFloat},
    {"mirostat_eta", ParamType::kFloat},
    {"penalize_newline", ParamType::kBool},
    {"stop", ParamType::kStringList},
    {"num_ctx", ParamType::kInt},
    {"num_batch", ParamType::kInt},
    {"num_gpu", ParamType::kInt},
    {"main_gpu", ParamType::kInt},
    {"num_thread", ParamType::kInt},
    {"low_vram", ParamType::kBool},
    {"f16_kv", ParamType::kBool},
    {"vocab_only", ParamType::kBool},
    {"use_mmap", ParamType::kBool},
    {"use_mlock", ParamType::kBool},
    {"numa", ParamType::kBool},
};

std::string shown(std::string_view s) {
  std::string out = utf8::sanitize(s.substr(0, 60));
  return s.size() > 60 ? out + "..." : out;
}

Result<ordered_json> convert_text(std::string_view name, ParamType type, std::string_view text) {
  auto bad = [&](const char* what) {
    return Status::invalid_argument(fmt::format("parameter {}: \"{}\" is not {}", name, shown(text), what));
  };
  switch (type) {
    case ParamType::kInt: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) return bad("an integer");
      return ordered_json(v);
    }
    case ParamType::kFloat: {
      std::string s(text);
      if (s.empty() || s.size() > 64) return bad("a number");
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (end != s.c_str() + s.size() || !std::isfinite(v)) return bad("a number");
      return ordered_json(v);
    }
    case ParamType::kBool:
      if (text == "true" || text == "TRUE" || text == "True" || text == "1") return ordered_json(true);
      if (text == "false" || text == "FALSE" || text == "False" || text == "0") return ordered_json(false);
      return bad("true or false");
    case ParamType::kStringList:
      if (!utf8::is_valid(text)) return bad("valid UTF-8");
      return ordered_json(std::string(text));
  }
  return Status::internal("unhandled parameter type");
}

std::string number_text(const ordered_json& v) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    // Shortest text that reads back as the same double.
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, p);
  }
  return v.dump();
}

}  // namespace

Result<ParamType> param_type(std::string_view name) {
  for (const auto& p : kParams) {
    if (p.name == name) return p.type;
  }
  return Status::not_found(fmt::format("unknown parameter \"{}\"", shown(name)));
}

Result<ordered_json> params_from_text(const std::vector<std::pair<std::string, std::string>>& params) {
  ordered_json out = ordered_json::object();
  for (const auto& [name, text] : params) {
    auto type = param_type(name);
    if (!type) return Status::invalid_argument(type.status().message());
    SOV_ASSIGN_OR_RETURN(ordered_json v, convert_text(name, *type, text));
    if (*type == ParamType::kStringList) {
      if (!out.contains(name)) out[name] = ordered_json::array();
      out[name].push_back(std::move(v));
    } else {
      out[name] = std::move(v);  // a later line wins, as in Ollama
    }
  }
  return out;
}

Result<ordered_json> normalize_params(const ordered_json& params) {
  if (!params.is_object()) return Status::invalid_argument("parameters must be a JSON object");
  ordered_json out = ordered_json::object();
  for (const auto& [name, v] : params.items()) {
    auto type = param_type(name);
    if (!type) return Status::invalid_argument(type.status().message());
    auto wrong = [&, n = name](const char* what) {
      return Status::invalid_argument(fmt::format("parameter {} must be {}", n, what));
    };
    switch (*type) {
      case ParamType::kInt:
        if (v.is_number_integer()) {
          out[name] = v;
        } else if (v.is_number_float() && std::isfinite(v.get<double>()) &&
                   v.get<double>() == std::trunc(v.get<double>()) && std::fabs(v.get<double>()) < 9e15) {
          out[name] = static_cast<int64_t>(v.get<double>());
        } else if (v.is_string()) {
          SOV_ASSIGN_OR_RETURN(out[name], convert_text(name, *type, v.get<std::string>()));
        } else {
          return wrong("an integer");
        }
        break;
      case ParamType::kFloat:
        if (v.is_number()) {
          out[name] = v.get<double>();
        } else if (v.is_string()) {
          SOV_ASSIGN_OR_RETURN(out[name], convert_text(name, *type, v.get<std::string>()));
        } else {
          return wrong("a number");
        }
        break;
      case ParamType::kBool:
        if (v.is_boolean()) {
          out[name] = v;
        } else if (v.is_string()) {
          SOV_ASSIGN_OR_RETURN(out[name], convert_text(name, *type, v.get<std::string>()));
        } else {
          return wrong("true or false");
        }
        break;
      case ParamType::kStringList:
        if (v.is_string()) {
          out[name] = ordered_json::array({v});
        } else if (v.is_array()) {
          for (const auto& s : v) {
            if (!s.is_string()) return wrong("a list of strings");
          }
          out[name] = v;
        } else {
          return wrong("a list of strings");
        }
        break;
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> params_to_text(const ordered_json& params) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!params.is_object()) return out;
  for (const auto& [name, v] : params.items()) {
    if (v.is_array()) {
      for (const auto& s : v) out.emplace_back(name, s.is_string() ? s.get<std::string>() : s.dump());
    } else if (v.is_string()) {
      out.emplace_back(name, v.get<std::string>());
    } else if (v.is_number()) {
      out.emplace_back(name, number_text(v));
    } else {
      out.emplace_back(name, v.dump());
    }
  }
  return out;
}

}  // namespace sov::store
