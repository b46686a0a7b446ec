// GGUF metadata values: the 13 value types of the format, arrays (of any type, nested).
// Plain values, thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sov::gguf {

// Ids fixed by the file format.
enum class ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

std::string_view value_type_name(ValueType t);

struct Value;

// An array's items all have `type`; for nested arrays each item is itself an Array.
struct Array {
  ValueType type = ValueType::kUint8;
  std::vector<Value> items;
  bool operator==(const Array&) const = default;
};

struct Value {
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                               std::string, Array, uint64_t, int64_t, double>;
  Storage v;

  Value() : v(uint8_t{0}) {}
  template <typename T>
  Value(T x) : v(std::move(x)) {}  // NOLINT: implicit by design
  Value(const char* s) : v(std::string(s)) {}  // NOLINT

  // The variant index equals the ValueType id.
  ValueType type() const { return static_cast<ValueType>(v.index()); }
  bool operator==(const Value&) const = default;

  // Integer of any width and signedness (bool counts as 0/1), if it is one and fits.
  std::optional<int64_t> as_int() const;
  // Float or integer as a double.
  std::optional<double> as_double() const;
  std::optional<bool> as_bool() const;
  const std::string* as_string() const { return std::get_if<std::string>(&v); }
  const Array* as_array() const { return std::get_if<Array>(&v); }
};

}  // namespace sov::gguf
