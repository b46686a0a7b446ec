// JSON <-> Jinja values, and Python json.dumps (the `tojson` filter as transformers defines
// it: ensure_ascii=False by default, insertion-ordered keys, Python float formatting).
// Pure functions; conversion depth is bounded and over-deep input throws jinja::Error.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "chat/jinja_value.h"

namespace sov::chat::jinja {

// JSON to value: objects keep their key order, integers beyond int64 become floats.
Value from_json(const nlohmann::ordered_json& j);
// Value to JSON (tuples become arrays); throws TypeError for undefined, callables, objects.
nlohmann::ordered_json to_json(const Value& v);

struct DumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // nullopt: single line
  std::string item_separator = ", ";  // becomes "," when indent is set and no separators given
  std::string key_separator = ": ";
  bool sort_keys = false;
  size_t max_bytes = SIZE_MAX;  // throws when the text would grow beyond this
};

// Python json.dumps(v, ...). Throws TypeError for values JSON cannot hold.
std::string dumps(const Value& v, const DumpOptions& options);

}  // namespace sov::chat::jinja
