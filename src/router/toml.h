// A strict parser for the subset of TOML 1.0 that Sovereign's config file uses: tables
// ([a.b]), arrays of tables ([[a]]), dotted and quoted keys, basic and literal strings
// (single-line), integers (decimal, with '_' separators), floats, booleans, arrays (may span
// lines, trailing comma allowed) and inline tables. Comments start with '#' anywhere outside
// a string. Multi-line strings, dates and times, hex/octal/binary integers, inf and nan are
// refused with a clear message instead of being half-understood.
//
// Errors are kInvalidArgument with "line N: ..." naming the first problem. The input must be
// valid UTF-8. Nesting is limited to 32 levels so hostile input cannot exhaust the stack.
//
// A Value owns its children; values are plain data (copyable). Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sov::router::toml {

class Value {
 public:
  enum class Type { kTable, kArray, kString, kInteger, kFloat, kBool };

  Value() = default;
  static Value table(int line = 0);
  static Value array(int line = 0);
  static Value string(std::string s, int line = 0);
  static Value integer(int64_t v, int line = 0);
  static Value floating(double v, int line = 0);
  static Value boolean(bool v, int line = 0);

  Type type() const { return type_; }
  bool is_table() const { return type_ == Type::kTable; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_integer() const { return type_ == Type::kInteger; }
  bool is_float() const { return type_ == Type::kFloat; }
  bool is_number() const { return is_integer() || is_float(); }
  bool is_bool() const { return type_ == Type::kBool; }
  // The line where the value (or table header) appeared; 0 when built in code.
  int line() const { return line_; }

  const std::string& as_string() const { return string_; }
  int64_t as_integer() const { return integer_; }
  double as_number() const { return is_integer() ? static_cast<double>(integer_) : float_; }
  bool as_bool() const { return bool_; }

  // Arrays (and the elements of an array of tables).
  const std::vector<Value>& items() const { return items_; }
  // Tables: keys in the order they first appeared, values parallel to them.
  const std::vector<std::string>& keys() const { return keys_; }
  const std::vector<Value>& values() const { return items_; }
  // The value under `key` in a table, or nullptr.
  const Value* find(std::string_view key) const;

  // Building (used by the parser).
  Value* find_mut(std::string_view key);
  Value* add(std::string key, Value v);  // table: key must be new
  Value* push(Value v);                  // array
  Value* item(size_t i);
  Value* last_item();

  // Parser bookkeeping: how a table or array came to be, to refuse redefinitions.
  enum class Origin { kValue, kImplicit, kHeader, kDotted, kArrayOfTables };
  Origin origin() const { return origin_; }
  void set_origin(Origin o) { origin_ = o; }

  // A short name of the type for messages ("string", "table", ...).
  static const char* type_name(Type t);

 private:
  Type type_ = Type::kTable;
  Origin origin_ = Origin::kValue;
  int line_ = 0;
  std::string string_;
  int64_t integer_ = 0;
  double float_ = 0;
  bool bool_ = false;
  std::vector<std::string> keys_;
  std::vector<Value> items_;
};

// Parses a whole document into its root table.
Result<Value> parse(std::string_view text);

}  // namespace sov::router::toml
