// Generation parameters of a chat session, by Ollama's option names (`/set parameter NAME
// VALUE` in `sov run`, Modelfile PARAMETER lines, a saved conversation's "parameters").
//
// Parameters are kept as a JSON object of typed values ({"temperature": 0, "stop": ["x"]})
// so that they can be saved, loaded and shown as given; generation_settings() turns them
// into what the engine runs with, over Ollama's defaults. Unknown names and badly typed
// values are refused by set_parameter() with a message naming the parameter; options that
// only tune hardware or other runtimes (num_gpu, mirostat, ...) are ignored when they come
// from a model's Modelfile.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sampling/sampler.h"

namespace sov::chat {

enum class ParamKind { kInt, kFloat, kStringList };

struct ParamInfo {
  std::string_view name;
  ParamKind kind;
  std::string_view help;
};

// The parameters `/set parameter` accepts, in help order.
std::span<const ParamInfo> known_parameters();

// Sets one parameter from its text form. `value` is the rest of the command line: a number,
// or for "stop" one or more stop strings separated by spaces (each may be a JSON string,
// e.g. "\n\n", to include spaces or escapes); stop replaces the previous list.
Status set_parameter(nlohmann::ordered_json* params, std::string_view name, std::string_view value);

// "NAME=VALUE" (the --parameter flag) or "NAME VALUE".
Status set_parameter_assignment(nlohmann::ordered_json* params, std::string_view assignment);

struct GenerationSettings {
  sampling::SamplerParams sampler;  // Ollama's defaults unless set
  int32_t num_predict = -1;         // -1: until end of generation or the context is full
  int32_t num_ctx = 0;              // 0: the engine's default (min(4096, trained))
  std::vector<std::string> stop;
};

// The settings `params` describe. Known parameters with a wrong type or meaningless values
// are refused; other names are ignored.
Result<GenerationSettings> generation_settings(const nlohmann::ordered_json& params);

}  // namespace sov::chat
