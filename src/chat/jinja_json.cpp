#include "chat/jinja_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/utf8.h"
#include "chat/jinja_error.h"
#include "chat/jinja_text.h"

namespace sov::chat::jinja {

namespace {

constexpr int kMaxDepth = 256;

Value from_json_at(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxDepth) throw Error("ValueError", "JSON input nested too deeply");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<int64_t>(u));
      return Value(static_cast<double>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json_at(e, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Dict d;
      for (const auto& [k, v] : j.items()) d.set(Value(k), from_json_at(v, depth + 1));
      return Value::dict(std::move(d));
    }
    default: return Value::none();  // binary / discarded: not produced by parsing text
  }
}

nlohmann::ordered_json to_json_at(const Value& v, int depth) {
  if (depth > kMaxDepth) throw Error("ValueError", "value nested too deeply for JSON");
  switch (v.kind()) {
    case Kind::kNone: return nullptr;
    case Kind::kBool: return v.as_bool();
    case Kind::kInt: return v.as_int();
    case Kind::kFloat: return v.as_float();
    case Kind::kString: return v.as_string();
    case Kind::kList: {
      if (v.is_generator()) throw_type_error("Object of type generator is not JSON serializable");
      auto arr = nlohmann::ordered_json::array();
      for (const Value& e : v.as_list()) arr.push_back(to_json_at(e, depth + 1));
      return arr;
    }
    case Kind::kDict: {
      auto obj = nlohmann::ordered_json::object();
      for (const auto& [k, e] : v.as_dict().items()) obj[to_str(k)] = to_json_at(e, depth + 1);
      return obj;
    }
    default: throw_type_error("Object of type " + type_name(v) + " is not JSON serializable");
  }
}

void append_json_string(std::string* out, std::string_view s, bool ensure_ascii) {
  out->push_back('"');
  size_t pos = 0;
  while (pos < s.size()) {
    auto c = static_cast<unsigned char>(s[pos]);
    if (c >= 0x80) {
      if (!ensure_ascii) {
        out->push_back(static_cast<char>(c));
        ++pos;
        continue;
      }
      uint32_t code = utf8::decode(s, &pos);  // invalid bytes become U+FFFD
      char buf[16];
      if (code >= 0x10000) {
        code -= 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + static_cast<unsigned>(code >> 10),
                      0xDC00 + static_cast<unsigned>(code & 0x3FF));
      } else {
        std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(code));
      }
      out->append(buf);
      continue;
    }
    ++pos;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

std::string json_float(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  return float_repr(d);
}

// json.dumps converts non-string keys: True -> "true", None -> "null", numbers via repr.
std::string json_key(const Value& k) {
  switch (k.kind()) {
    case Kind::kString: return k.as_string();
    case Kind::kBool: return k.as_bool() ? "true" : "false";
    case Kind::kNone: return "null";
    case Kind::kInt: return std::to_string(k.as_int());
    case Kind::kFloat: return json_float(k.as_float());
    default: throw_type_error("keys must be str, int, float, bool or None, not " + type_name(k));
  }
}

class Dumper {
 public:
  Dumper(const DumpOptions& o, std::string* out) : o_(o), out_(out) {}

  void dump(const Value& v, int depth) {
    if (depth > kMaxDepth) throw Error("RecursionError", "maximum recursion depth exceeded in tojson");
    if (out_->size() > o_.max_bytes) throw Error("ResourceLimit", "tojson output exceeds the size limit");
    switch (v.kind()) {
      case Kind::kNone: out_->append("null"); return;
      case Kind::kBool: out_->append(v.as_bool() ? "true" : "false"); return;
      case Kind::kInt: out_->append(std::to_string(v.as_int())); return;
      case Kind::kFloat: out_->append(json_float(v.as_float())); return;
      case Kind::kString: append_json_string(out_, v.as_string(), o_.ensure_ascii); return;
      case Kind::kList: {
        if (v.is_generator()) throw_type_error("Object of type generator is not JSON serializable");
        const List& items = v.as_list();
        if (items.empty()) {
          out_->append("[]");
          return;
        }
        out_->push_back('[');
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) out_->append(o_.item_separator);
          newline(depth + 1);
          dump(items[i], depth + 1);
        }
        newline(depth);
        out_->push_back(']');
        return;
      }
      case Kind::kDict: {
        const Dict& d = v.as_dict();
        if (d.empty()) {
          out_->append("{}");
          return;
        }
        std::vector<const std::pair<Value, Value>*> items;
        for (const auto& item : d.items()) items.push_back(&item);
        if (o_.sort_keys) {
          std::stable_sort(items.begin(), items.end(),
                           [](const auto* a, const auto* b) { return compare(a->first, b->first) < 0; });
        }
        out_->push_back('{');
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) out_->append(o_.item_separator);
          newline(depth + 1);
          append_json_string(out_, json_key(items[i]->first), o_.ensure_ascii);
          out_->append(o_.key_separator);
          dump(items[i]->second, depth + 1);
        }
        newline(depth);
        out_->push_back('}');
        return;
      }
      default: throw_type_error("Object of type " + type_name(v) + " is not JSON serializable");
    }
  }

 private:
  void newline(int depth) {
    if (!o_.indent) return;
    out_->push_back('\n');
    for (int i = 0; i < depth; ++i) out_->append(*o_.indent);
  }

  const DumpOptions& o_;
  std::string* out_;
};

}  // namespace

Value from_json(const nlohmann::ordered_json& j) {
  return from_json_at(j, 0);
}

nlohmann::ordered_json to_json(const Value& v) {
  return to_json_at(v, 0);
}

std::string dumps(const Value& v, const DumpOptions& options) {
  std::string out;
  Dumper(options, &out).dump(v, 0);
  return out;
}

}  // namespace sov::chat::jinja
