// Model parameters (Modelfile PARAMETER lines, the params layer, /api/create "parameters"):
// Ollama's option names with their types. Text values from a Modelfile are converted to
// typed JSON (`num_ctx 4096` -> {"num_ctx": 4096}); "stop" may repeat and becomes a list.
// Unknown names and values of the wrong type are refused, naming the parameter.
//
// Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sov::store {

enum class ParamType { kInt, kFloat, kBool, kStringList };

// The type of a known parameter; kNotFound for an unknown name.
Result<ParamType> param_type(std::string_view name);

// (name, text value) pairs in Modelfile order -> a JSON object.
Result<nlohmann::ordered_json> params_from_text(
    const std::vector<std::pair<std::string, std::string>>& params);

// Validates a JSON object of parameters (types checked; ints given as whole floats and
// numbers given as strings are normalised, as Ollama accepts them) and returns it normalised.
Result<nlohmann::ordered_json> normalize_params(const nlohmann::ordered_json& params);

// The inverse of params_from_text: one (name, text) per value, "stop" once per entry.
std::vector<std::pair<std::string, std::string>> params_to_text(const nlohmann::ordered_json& params);

}  // namespace sov::store
