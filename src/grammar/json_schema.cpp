#include "grammar/json_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "base/utf8.h"
#include "grammar/regex_to_grammar.h"

namespace sov::grammar {

namespace {

using ojson = nlohmann::ordered_json;

constexpr int64_t kMaxInt = 9999999999999999;  // 16 digits: what the integer rule allows
constexpr uint32_t kMaxCount = 10000;          // minItems/maxItems/minLength/maxLength

std::string primitives(const SchemaOptions& o) {
  return fmt::format(
      "ws ::= | \" \" | \"\\n\" [ \\t]{{0,{}}}\n"
      "hex ::= [0-9a-fA-F]\n"
      "char ::= [^\"\\\\\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" ([0-9a-cA-CeEfF] hex hex hex | [dD] "
      "[0-7] hex hex))\n"
      "string ::= \"\\\"\" char* \"\\\"\"\n"
      "int-part ::= \"0\" | [1-9] [0-9]{{0,15}}\n"
      "integer ::= \"-\"? int-part\n"
      "number ::= \"-\"? int-part (\".\" [0-9]{{1,16}})? ([eE] [-+]? [0-9]{{1,2}})?\n"
      "boolean ::= \"true\" | \"false\"\n"
      "null ::= \"null\"\n"
      "value ::= object | array | string | number | boolean | null\n"
      "object ::= \"{{\" ws (string ws \":\" ws value ws (\",\" ws string ws \":\" ws value ws)*)? \"}}\"\n"
      "array ::= \"[\" ws (value ws (\",\" ws value ws)*)? \"]\"\n",
      o.max_indent);
}

const std::set<std::string>& annotation_keys() {
  static const std::set<std::string> k = {"title",           "description",   "default",  "examples",
                                          "$schema",         "$id",           "$comment", "deprecated",
                                          "readOnly",        "writeOnly",     "$anchor",  "definitions",
                                          "$defs",           "strict",        "name",     "contentMediaType",
                                          "contentEncoding", "discriminator", "nullable"};
  return k;
}

std::string sanitize(const std::string& hint) {
  std::string out;
  for (char c : hint) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (ok) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
    if (out.size() >= 40) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "r" : out;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string dump(const ojson& v) {
  return v.dump(-1, ' ', false, ojson::error_handler_t::strict);
}

std::string class_char(uint32_t cp) {
  if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) {
    return std::string(1, static_cast<char>(cp));
  }
  return cp <= 0xFFFF ? fmt::format("\\u{:04X}", cp) : fmt::format("\\U{:08X}", cp);
}

// Decimal integer ranges as grammar (numbers without sign, no leading zeros).
std::string same_length_range(const std::string& lo, const std::string& hi) {
  const size_t n = lo.size();
  if (n == 0) return "";
  if (lo == hi) return gbnf_literal(lo);
  if (lo[0] == hi[0])
    return gbnf_literal(lo.substr(0, 1)) + " " + same_length_range(lo.substr(1), hi.substr(1));
  const std::string rest_lo = lo.substr(1), rest_hi = hi.substr(1);
  const bool zeros = rest_lo.find_first_not_of('0') == std::string::npos;
  const bool nines = rest_hi.find_first_not_of('9') == std::string::npos;
  auto any_digits = [](size_t k) { return k == 0 ? std::string() : fmt::format(" [0-9]{{{}}}", k); };
  std::vector<std::string> alts;
  char first = lo[0], last = hi[0];
  if (!zeros) {
    alts.push_back(gbnf_literal(lo.substr(0, 1)) + " " + same_length_range(rest_lo, std::string(n - 1, '9')));
    ++first;
  }
  std::string tail_alt;
  if (!nines) {
    tail_alt = gbnf_literal(hi.substr(0, 1)) + " " + same_length_range(std::string(n - 1, '0'), rest_hi);
    --last;
  }
  if (first <= last) alts.push_back(fmt::format("[{}-{}]", first, last) + any_digits(n - 1));
  if (!tail_alt.empty()) alts.push_back(tail_alt);
  return alts.size() == 1 ? alts[0] : "(" + join(alts, " | ") + ")";
}

std::string nonneg_range(int64_t lo, int64_t hi) {
  std::vector<std::string> alts;
  const std::string slo = std::to_string(lo), shi = std::to_string(hi);
  int64_t pow = 1;
  for (size_t k = 1; k < slo.size(); ++k) pow *= 10;
  for (size_t len = slo.size(); len <= shi.size(); ++len, pow *= 10) {
    const int64_t l = len == slo.size() ? lo : pow;
    const int64_t h = len == shi.size() ? hi : pow * 10 - 1;
    alts.push_back(same_length_range(std::to_string(l), std::to_string(h)));
  }
  return alts.size() == 1 ? "(" + alts[0] + ")" : "(" + join(alts, " | ") + ")";
}

class Converter {
 public:
  Converter(const ojson& root, const SchemaOptions& opt) : root_(root), opt_(opt) {
    for (const char* p : {"ws", "hex", "char", "string", "int-part", "integer", "number", "boolean", "null",
                          "value", "object", "array", "root"}) {
      names_.insert(p);
    }
  }

  Result<std::string> run() {
    SOV_ASSIGN_OR_RETURN(std::string e, visit(root_, "root", "#", 0));
    std::string out = "root ::= " + e + "\n";
    for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
    return out + primitives(opt_);
  }

 private:
  Status error(const std::string& path, const std::string& m) const {
    return Status::invalid_argument(fmt::format("JSON schema at {}: {}", path, m));
  }

  Result<std::string> add_rule(const std::string& hint, const std::string& body) {
    auto it = by_body_.find(body);
    if (it != by_body_.end()) return it->second;
    SOV_ASSIGN_OR_RETURN(std::string name, reserve(hint));
    define(name, body);
    return name;
  }
  Result<std::string> reserve(const std::string& hint) {
    if (rules_.size() >= opt_.max_rules) {
      return Status::invalid_argument(
          fmt::format("JSON schema needs more than {} grammar rules", opt_.max_rules));
    }
    std::string base = sanitize(hint), name = base;
    for (int i = 2; names_.count(name); ++i) name = fmt::format("{}-{}", base, i);
    names_.insert(name);
    index_[name] = rules_.size();
    rules_.push_back({name, ""});
    return name;
  }
  void define(const std::string& name, const std::string& body) {
    rules_[index_[name]].second = body;
    by_body_.emplace(body, name);
  }

  Result<const ojson*> resolve_ref(const std::string& ref, const std::string& path) const {
    if (ref.empty() || ref[0] != '#') {
      return error(path,
                   "$ref \"" + ref + "\" is not local; only references inside the schema (\"#/...\") work");
    }
    if (ref == "#") return &root_;
    try {
      const ojson::json_pointer ptr(ref.substr(1));
      if (!root_.contains(ptr)) return error(path, "$ref \"" + ref + "\" points to nothing");
      return &root_.at(ptr);
    } catch (const std::exception&) {
      return error(path, "$ref \"" + ref + "\" is not a valid JSON pointer");
    }
  }

  // Follows $ref chains (for merging).
  Result<ojson> deref(const ojson& s, const std::string& path) const {
    ojson cur = s;
    for (int i = 0; cur.is_object() && cur.contains("$ref"); ++i) {
      if (i > 32) return error(path, "$ref chain too long or circular");
      if (!cur["$ref"].is_string()) return error(path, "$ref must be a string");
      SOV_ASSIGN_OR_RETURN(const ojson* target, resolve_ref(cur["$ref"].get<std::string>(), path));
      ojson rest = cur;
      rest.erase("$ref");
      strip_annotations(&rest);
      if (rest.empty()) {
        cur = *target;
      } else {
        cur = ojson{{"allOf", ojson::array({*target, rest})}};
      }
    }
    return cur;
  }

  static void strip_annotations(ojson* s) {
    for (const auto& k : annotation_keys()) s->erase(k);
  }

  static bool is_object_schema(const ojson& s) {
    if (s.contains("type")) return s["type"] == "object";
    return s.contains("properties") || s.contains("required") || s.contains("additionalProperties");
  }

  // allOf of two schemas as one schema, where that can be done exactly enough.
  Result<ojson> merge(const ojson& a_in, const ojson& b_in, const std::string& path, int depth) const {
    if (depth > opt_.max_depth) return error(path, "allOf nested too deeply");
    SOV_ASSIGN_OR_RETURN(ojson a, deref(a_in, path));
    SOV_ASSIGN_OR_RETURN(ojson b, deref(b_in, path));
    if (a.is_boolean() || b.is_boolean()) {
      if (a == false || b == false) return error(path, "allOf with false can match nothing");
      return a.is_boolean() ? b : a;
    }
    strip_annotations(&a);
    strip_annotations(&b);
    if (a.empty()) return b;
    if (b.empty()) return a;
    if (a.contains("allOf")) {
      SOV_ASSIGN_OR_RETURN(a, fold_all_of(a, path, depth + 1));
    }
    if (b.contains("allOf")) {
      SOV_ASSIGN_OR_RETURN(b, fold_all_of(b, path, depth + 1));
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      for (int side = 0; side < 2; ++side) {
        ojson& x = side == 0 ? a : b;
        const ojson& y = side == 0 ? b : a;
        if (!x.contains(key)) continue;
        if (!x[key].is_array()) return error(path, std::string(key) + " must be an array");
        ojson rest = x;
        rest.erase(key);
        ojson branches = ojson::array();
        for (const auto& br : x[key]) {
          SOV_ASSIGN_OR_RETURN(ojson m, merge(rest.empty() ? br : merge_or(rest, br), y, path, depth + 1));
          branches.push_back(std::move(m));
        }
        if (branches.size() > 64) return error(path, "allOf of anyOf has too many combinations");
        return ojson{{"anyOf", branches}};
      }
    }
    if (a == b) return a;
    if (is_object_schema(a) && is_object_schema(b)) {
      ojson out = {{"type", "object"}};
      ojson props = ojson::object();
      for (const ojson* s : {&a, &b}) {
        if (!s->contains("properties")) continue;
        for (const auto& [k, v] : (*s)["properties"].items()) {
          if (props.contains(k)) {
            SOV_ASSIGN_OR_RETURN(props[k], merge(props[k], v, path + "/properties/" + k, depth + 1));
          } else {
            props[k] = v;
          }
        }
      }
      if (!props.empty()) out["properties"] = props;
      ojson required = ojson::array();
      for (const ojson* s : {&a, &b}) {
        if (!s->contains("required")) continue;
        for (const auto& r : (*s)["required"]) {
          if (std::find(required.begin(), required.end(), r) == required.end()) required.push_back(r);
        }
      }
      if (!required.empty()) out["required"] = required;
      const bool ha = a.contains("additionalProperties"), hb = b.contains("additionalProperties");
      if (ha || hb) {
        if ((ha && a["additionalProperties"] == false) || (hb && b["additionalProperties"] == false)) {
          out["additionalProperties"] = false;
        } else if (ha && hb) {
          SOV_ASSIGN_OR_RETURN(out["additionalProperties"],
                               merge(a["additionalProperties"], b["additionalProperties"], path, depth + 1));
        } else {
          out["additionalProperties"] = ha ? a["additionalProperties"] : b["additionalProperties"];
        }
      }
      for (const ojson* s : {&a, &b}) {
        for (const auto& [k, v] : s->items()) {
          if (k != "type" && k != "properties" && k != "required" && k != "additionalProperties") {
            return error(path, "allOf of objects with \"" + k + "\" is not supported");
          }
        }
      }
      return out;
    }
    // {"type": T} and a schema of type T.
    if (a.size() == 1 && a.contains("type") && b.contains("type") && a["type"] == b["type"]) return b;
    if (b.size() == 1 && b.contains("type") && a.contains("type") && a["type"] == b["type"]) return a;
    return error(path, "allOf is supported for object schemas (merged) and identical schemas only");
  }

  // Merges without failing (used to push anyOf siblings into branches); errors surface later.
  ojson merge_or(const ojson& rest, const ojson& branch) const {
    return ojson{{"allOf", ojson::array({rest, branch})}};
  }

  Result<ojson> fold_all_of(const ojson& s, const std::string& path, int depth) const {
    if (!s["allOf"].is_array() || s["allOf"].empty()) return error(path, "allOf must be a non-empty array");
    ojson rest = s;
    rest.erase("allOf");
    strip_annotations(&rest);
    ojson acc = rest.empty() ? s["allOf"][0] : rest;
    for (size_t i = rest.empty() ? 1 : 0; i < s["allOf"].size(); ++i) {
      SOV_ASSIGN_OR_RETURN(acc, merge(acc, s["allOf"][i], fmt::format("{}/allOf/{}", path, i), depth + 1));
    }
    return acc;
  }

  Status check_refused(const ojson& s, const std::string& path) const {
    static const char* kRefused[] = {"not",
                                     "if",
                                     "then",
                                     "else",
                                     "multipleOf",
                                     "contains",
                                     "patternProperties",
                                     "propertyNames",
                                     "maxProperties",
                                     "dependentRequired",
                                     "dependentSchemas",
                                     "dependencies",
                                     "unevaluatedProperties",
                                     "unevaluatedItems",
                                     "minContains",
                                     "maxContains"};
    for (const char* k : kRefused) {
      if (s.contains(k)) return error(path, fmt::format("\"{}\" cannot be enforced by structured output", k));
    }
    if (s.contains("uniqueItems") && s["uniqueItems"] == true) {
      return error(path, "\"uniqueItems\" cannot be enforced by structured output");
    }
    if (s.contains("minProperties") && !(s["minProperties"].is_number() && s["minProperties"] == 0)) {
      return error(path, "\"minProperties\" cannot be enforced by structured output");
    }
    return Status::ok();
  }

  static std::string infer_type(const ojson& s) {
    if (s.contains("properties") || s.contains("additionalProperties") || s.contains("required"))
      return "object";
    if (s.contains("items") || s.contains("prefixItems") || s.contains("minItems") || s.contains("maxItems"))
      return "array";
    if (s.contains("pattern") || s.contains("minLength") || s.contains("maxLength") || s.contains("format"))
      return "string";
    if (s.contains("minimum") || s.contains("maximum") || s.contains("exclusiveMinimum") ||
        s.contains("exclusiveMaximum"))
      return "number";
    return "";
  }

  Result<std::string> visit(const ojson& s, const std::string& hint, const std::string& path, int depth) {
    if (depth > opt_.max_depth) return error(path, fmt::format("nested deeper than {}", opt_.max_depth));
    if (s.is_boolean()) {
      if (s == true) return std::string("value");
      return error(path, "the schema false matches nothing");
    }
    if (!s.is_object()) return error(path, "a schema must be an object or a boolean");
    SOV_RETURN_IF_ERROR(check_refused(s, path));

    if (s.contains("$ref")) {
      if (!s["$ref"].is_string()) return error(path, "$ref must be a string");
      ojson rest = s;
      rest.erase("$ref");
      strip_annotations(&rest);
      if (!rest.empty()) {
        SOV_ASSIGN_OR_RETURN(ojson merged, deref(s, path));
        return visit(merged, hint, path, depth + 1);
      }
      const std::string ref = s["$ref"].get<std::string>();
      auto it = refs_.find(ref);
      if (it != refs_.end()) return it->second;
      SOV_ASSIGN_OR_RETURN(const ojson* target, resolve_ref(ref, path));
      const size_t slash = ref.rfind('/');
      SOV_ASSIGN_OR_RETURN(std::string name,
                           reserve(slash == std::string::npos ? "ref" : ref.substr(slash + 1)));
      refs_[ref] = name;
      SOV_ASSIGN_OR_RETURN(std::string body, visit(*target, name, ref, depth + 1));
      define(name, body);
      return name;
    }
    if (s.contains("const")) return gbnf_literal(dump(s["const"]));
    if (s.contains("enum")) {
      if (!s["enum"].is_array() || s["enum"].empty()) return error(path, "enum must be a non-empty array");
      std::vector<std::string> alts;
      for (const auto& v : s["enum"]) alts.push_back(gbnf_literal(dump(v)));
      return add_rule(hint, join(alts, " | "));
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      if (!s[key].is_array() || s[key].empty())
        return error(path, std::string(key) + " must be a non-empty array");
      ojson rest = s;
      rest.erase(key);
      strip_annotations(&rest);
      std::vector<std::string> alts;
      for (size_t i = 0; i < s[key].size(); ++i) {
        const std::string p = fmt::format("{}/{}/{}", path, key, i);
        ojson branch = s[key][i];
        if (!rest.empty()) {
          SOV_ASSIGN_OR_RETURN(branch, merge(rest, branch, p, depth + 1));
        }
        SOV_ASSIGN_OR_RETURN(std::string e, visit(branch, fmt::format("{}-{}", hint, i), p, depth + 1));
        alts.push_back(e);
      }
      return add_rule(hint, join(alts, " | "));
    }
    if (s.contains("allOf")) {
      SOV_ASSIGN_OR_RETURN(ojson merged, fold_all_of(s, path, depth + 1));
      return visit(merged, hint, path, depth + 1);
    }

    std::string type;
    if (s.contains("type")) {
      const ojson& t = s["type"];
      if (t.is_array()) {
        if (t.empty()) return error(path, "type must not be an empty list");
        std::vector<std::string> alts;
        for (const auto& one : t) {
          ojson copy = s;
          copy["type"] = one;
          SOV_ASSIGN_OR_RETURN(std::string e, visit(copy, hint + "-" + one.dump(), path, depth + 1));
          alts.push_back(e);
        }
        return add_rule(hint, join(alts, " | "));
      }
      if (!t.is_string()) return error(path, "type must be a string or a list of strings");
      type = t.get<std::string>();
    } else {
      type = infer_type(s);
    }
    if (type.empty()) return std::string("value");
    if (type == "object") return object(s, hint, path, depth);
    if (type == "array") return array(s, hint, path, depth);
    if (type == "string") return string(s, hint, path);
    if (type == "integer") return integer(s, hint, path);
    if (type == "number") {
      for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
        if (s.contains(k)) {
          return error(path,
                       fmt::format("\"{}\" on a number cannot be enforced by structured output (it can on "
                                   "\"type\": \"integer\")",
                                   k));
        }
      }
      return std::string("number");
    }
    if (type == "boolean") return std::string("boolean");
    if (type == "null") return std::string("null");
    return error(path, "unknown type \"" + type + "\"");
  }

  Result<uint32_t> count(const ojson& s, const char* key, uint32_t dflt, const std::string& path) const {
    if (!s.contains(key)) return dflt;
    const ojson& v = s[key];
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() != std::floor(v.get<double>())) {
      return error(path, fmt::format("\"{}\" must be a non-negative integer", key));
    }
    if (v.get<double>() > kMaxCount) {
      return error(path,
                   fmt::format("\"{}\" over {} cannot be enforced by structured output", key, kMaxCount));
    }
    return static_cast<uint32_t>(v.get<double>());
  }

  Result<std::string> object(const ojson& s, const std::string& hint, const std::string& path, int depth) {
    struct Prop {
      std::string name;
      ojson schema;
      bool required;
    };
    std::vector<Prop> props;
    std::set<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) return error(path, "required must be an array");
      for (const auto& r : s["required"]) {
        if (!r.is_string()) return error(path, "required must list strings");
        required.insert(r.get<std::string>());
      }
    }
    if (s.contains("properties")) {
      if (!s["properties"].is_object()) return error(path, "properties must be an object");
      for (const auto& [k, v] : s["properties"].items()) props.push_back({k, v, required.count(k) > 0});
    }
    // Required names without a schema: any value.
    for (const auto& r : required) {
      if (std::none_of(props.begin(), props.end(), [&](const Prop& p) { return p.name == r; })) {
        props.push_back({r, true, true});
      }
    }
    // Extra properties: absent means none when properties are listed (the model should not
    // invent fields), any when nothing is listed.
    std::string extra_value;
    if (s.contains("additionalProperties")) {
      const ojson& ap = s["additionalProperties"];
      if (ap != false) {
        SOV_ASSIGN_OR_RETURN(extra_value,
                             visit(ap, hint + "-additional", path + "/additionalProperties", depth + 1));
      }
    } else if (props.empty()) {
      extra_value = "value";
    }
    std::vector<std::string> kv;
    for (const auto& p : props) {
      SOV_ASSIGN_OR_RETURN(std::string v,
                           visit(p.schema, hint + "-" + p.name, path + "/properties/" + p.name, depth + 1));
      SOV_ASSIGN_OR_RETURN(std::string r, add_rule(hint + "-" + p.name + "-kv",
                                                   gbnf_literal(dump(p.name)) + " ws \":\" ws " + v + " ws"));
      kv.push_back(r);
    }
    std::string extra_kv;
    if (!extra_value.empty()) {
      std::string key = "string";
      if (!props.empty()) {
        std::vector<std::string> names;
        for (const auto& p : props) names.push_back(p.name);
        SOV_ASSIGN_OR_RETURN(key, other_key(names, hint + "-other-key"));
      }
      SOV_ASSIGN_OR_RETURN(extra_kv,
                           add_rule(hint + "-additional-kv", key + " ws \":\" ws " + extra_value + " ws"));
    }
    // tails[i]: the properties from i on, after at least one property was written.
    const size_t n = props.size();
    std::vector<std::string> tails(n + 1);
    if (!extra_kv.empty()) {
      SOV_ASSIGN_OR_RETURN(tails[n], add_rule(hint + "-rest", "(\",\" ws " + extra_kv + ")*"));
    }
    for (size_t i = n; i-- > 0;) {
      std::string item = "\",\" ws " + kv[i];
      std::string body = props[i].required ? item : "(" + item + ")?";
      if (!tails[i + 1].empty()) body += " " + tails[i + 1];
      SOV_ASSIGN_OR_RETURN(tails[i], add_rule(hint + "-tail", body));
    }
    std::vector<std::string> firsts;
    bool all_optional = true;
    for (size_t i = 0; i < n; ++i) {
      firsts.push_back(kv[i] + (tails[i + 1].empty() ? "" : " " + tails[i + 1]));
      if (props[i].required) {
        all_optional = false;
        break;
      }
    }
    if (all_optional && !extra_kv.empty()) firsts.push_back(extra_kv + " " + tails[n]);
    std::string body = "\"{\" ws ";
    if (!firsts.empty()) body += "(" + join(firsts, " | ") + ")" + (all_optional ? "?" : "") + " ";
    body += "\"}\"";
    return add_rule(hint, body);
  }

  // A JSON string that is none of `names` (written without escapes).
  Result<std::string> other_key(const std::vector<std::string>& names, const std::string& hint) {
    struct Node {
      std::map<uint32_t, size_t> children;
      bool terminal = false;
    };
    std::vector<Node> nodes(1);
    for (const auto& name : names) {
      size_t cur = 0, pos = 0;
      while (pos < name.size()) {
        const uint32_t cp = utf8::decode(name, &pos);
        auto it = nodes[cur].children.find(cp);
        if (it == nodes[cur].children.end()) {
          nodes.push_back({});
          it = nodes[cur].children.emplace(cp, nodes.size() - 1).first;
        }
        cur = it->second;
      }
      nodes[cur].terminal = true;
    }
    SOV_ASSIGN_OR_RETURN(std::string kchar, add_rule("key-char", "[^\"\\\\\\x00-\\x1F]"));
    // Rules from the leaves up, so that each body can name its children's rules.
    std::vector<std::string> rule(nodes.size());
    std::vector<size_t> order;
    std::vector<size_t> todo = {0};
    while (!todo.empty()) {
      size_t k = todo.back();
      todo.pop_back();
      order.push_back(k);
      for (const auto& [cp, child] : nodes[k].children) todo.push_back(child);
    }
    for (size_t oi = order.size(); oi-- > 0;) {
      const size_t k = order[oi];
      std::vector<std::string> alts;
      std::string excluded;
      for (const auto& [cp, child] : nodes[k].children) {
        excluded += class_char(cp);
        if (cp < 0x20 || cp == '"' || cp == '\\') continue;  // cannot be written without an escape
        std::string lit;
        utf8::append(&lit, cp);
        alts.push_back(gbnf_literal(lit) + " " + rule[child]);
      }
      alts.push_back("[^" + excluded + "\"\\\\\\x00-\\x1F] " + kchar + "*");
      if (!nodes[k].terminal) alts.push_back("");
      SOV_ASSIGN_OR_RETURN(rule[k], add_rule(hint, "(" + join(alts, " | ") + ")"));
    }
    return add_rule(hint, "\"\\\"\" " + rule[0] + " \"\\\"\"");
  }

  Result<std::string> array(const ojson& s, const std::string& hint, const std::string& path, int depth) {
    std::vector<std::string> prefix;
    ojson prefix_schemas = ojson::array();
    std::string extra;  // schema of items after the prefix; "" when none may follow
    if (s.contains("prefixItems")) {
      if (!s["prefixItems"].is_array()) return error(path, "prefixItems must be an array");
      prefix_schemas = s["prefixItems"];
    } else if (s.contains("items") && s["items"].is_array()) {  // draft 4 tuple form
      prefix_schemas = s["items"];
    }
    for (size_t i = 0; i < prefix_schemas.size(); ++i) {
      SOV_ASSIGN_OR_RETURN(std::string e, visit(prefix_schemas[i], fmt::format("{}-{}", hint, i),
                                                fmt::format("{}/prefixItems/{}", path, i), depth + 1));
      prefix.push_back(e);
    }
    const ojson* items = nullptr;
    if (s.contains("items") && !s["items"].is_array()) items = &s["items"];
    if (!s.contains("prefixItems") && s.contains("items") && s["items"].is_array() &&
        s.contains("additionalItems")) {
      items = &s["additionalItems"];
    }
    if (items) {
      if (*items != false) {
        SOV_ASSIGN_OR_RETURN(extra, visit(*items, hint + "-item", path + "/items", depth + 1));
      }
    } else if (prefix.empty()) {
      extra = "value";
    }
    SOV_ASSIGN_OR_RETURN(uint32_t min, count(s, "minItems", 0, path));
    SOV_ASSIGN_OR_RETURN(uint32_t max, count(s, "maxItems", UINT32_MAX, path));
    if (!s.contains("maxItems")) max = UINT32_MAX;
    if (max < min) return error(path, "maxItems is less than minItems");
    const uint32_t k = static_cast<uint32_t>(std::min<size_t>(prefix.size(), max));
    if (extra.empty() && min > k) return error(path, "minItems needs more items than the schema allows");
    // tail[j]: items from j on, after item j-1 (j >= 1).
    std::string after_prefix;
    if (!extra.empty() && max > k) {
      const uint32_t lo = min > k ? min - k : 0;
      const std::string one = "\",\" ws " + extra + " ws";
      std::string rep =
          max == UINT32_MAX ? fmt::format("{{{},}}", lo) : fmt::format("{{{},{}}}", lo, max - k);
      if (rep == "{0,}") rep = "*";
      SOV_ASSIGN_OR_RETURN(after_prefix, add_rule(hint + "-more", "(" + one + ")" + rep));
    }
    std::string elements;
    if (k > 0) {
      std::string tail = after_prefix;
      for (uint32_t j = k; j-- > 1;) {
        std::string seg = "\",\" ws " + prefix[j] + " ws" + (tail.empty() ? "" : " " + tail);
        if (j >= min) seg = "(" + seg + ")?";
        SOV_ASSIGN_OR_RETURN(tail, add_rule(hint + "-tail", seg));
      }
      elements = prefix[0] + " ws" + (tail.empty() ? "" : " " + tail);
      if (min == 0) elements = "(" + elements + ")?";
    } else if (!extra.empty() && max > 0) {
      const uint32_t lo = min > 1 ? min - 1 : 0;
      std::string rep =
          max == UINT32_MAX ? fmt::format("{{{},}}", lo) : fmt::format("{{{},{}}}", lo, max - 1);
      if (rep == "{0,}") rep = "*";
      if (rep == "{0,0}") rep = "";
      elements = extra + " ws" + (rep.empty() ? "" : " (\",\" ws " + extra + " ws)" + rep);
      if (min == 0) elements = "(" + elements + ")?";
    }
    return add_rule(hint, "\"[\" ws " + (elements.empty() ? "" : elements + " ") + "\"]\"");
  }

  Result<std::string> string(const ojson& s, const std::string& hint, const std::string& path) {
    const std::string q = "\"\\\"\"";
    if (s.contains("pattern")) {
      if (!s["pattern"].is_string()) return error(path, "pattern must be a string");
      if (s.contains("minLength") || s.contains("maxLength") || s.contains("format")) {
        return error(path, "pattern together with minLength, maxLength or format cannot be enforced");
      }
      SOV_ASSIGN_OR_RETURN(std::string e, regex_to_gbnf(s["pattern"].get<std::string>(), "char"));
      return add_rule(hint, q + " " + e + " " + q);
    }
    if (s.contains("format") && s["format"].is_string()) {
      const std::string f = s["format"].get<std::string>();
      const std::string date =
          "[0-9]{4} \"-\" ((\"0\" [13578] | \"1\" [02]) \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01]) | "
          "(\"0\" "
          "[469] | \"11\") \"-\" (\"0\" [1-9] | [12] [0-9] | \"30\") | \"02-\" (\"0\" [1-9] | \"1\" [0-9] | "
          "\"2\" "
          "[0-8]))";
      const std::string time =
          "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,6})? (\"Z\" | [+-] "
          "([01] "
          "[0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])";
      std::string body;
      if (f == "date") body = date;
      if (f == "time") body = time;
      if (f == "date-time") body = date + " \"T\" " + time;
      if (f == "uuid") body = "hex{8} \"-\" hex{4} \"-\" hex{4} \"-\" hex{4} \"-\" hex{12}";
      if (!body.empty()) {
        if (s.contains("minLength") || s.contains("maxLength")) {
          return error(path, "format together with minLength or maxLength cannot be enforced");
        }
        return add_rule(f, q + " " + body + " " + q);
      }
      // Other formats are annotations (JSON Schema's default): any string validates.
    }
    if (s.contains("minLength") || s.contains("maxLength")) {
      SOV_ASSIGN_OR_RETURN(uint32_t min, count(s, "minLength", 0, path));
      uint32_t max = UINT32_MAX;
      if (s.contains("maxLength")) {
        SOV_ASSIGN_OR_RETURN(max, count(s, "maxLength", 0, path));
      }
      if (max < min) return error(path, "maxLength is less than minLength");
      const std::string rep =
          max == UINT32_MAX ? fmt::format("{{{},}}", min) : fmt::format("{{{},{}}}", min, max);
      return add_rule(hint, q + " char" + rep + " " + q);
    }
    return std::string("string");
  }

  Result<std::string> integer(const ojson& s, const std::string& hint, const std::string& path) {
    int64_t lo = -kMaxInt, hi = kMaxInt;
    bool bounded = false;
    auto bound = [&](const char* key, bool is_min, bool exclusive) -> Status {
      if (!s.contains(key)) return Status::ok();
      const ojson& v = s[key];
      if (v.is_boolean()) return Status::ok();  // draft 4 flags, read below
      if (!v.is_number()) return error(path, fmt::format("\"{}\" must be a number", key));
      bool excl = exclusive;
      if (!exclusive) {
        const char* flag = is_min ? "exclusiveMinimum" : "exclusiveMaximum";
        if (s.contains(flag) && s[flag] == true) excl = true;
      }
      double d = v.get<double>();
      double b = is_min ? std::ceil(d) : std::floor(d);
      if (excl && b == d) b += is_min ? 1 : -1;
      b = std::clamp(b, -static_cast<double>(kMaxInt), static_cast<double>(kMaxInt));
      bounded = true;
      if (is_min) {
        lo = std::max(lo, static_cast<int64_t>(b));
      } else {
        hi = std::min(hi, static_cast<int64_t>(b));
      }
      return Status::ok();
    };
    SOV_RETURN_IF_ERROR(bound("minimum", true, false));
    SOV_RETURN_IF_ERROR(bound("maximum", false, false));
    SOV_RETURN_IF_ERROR(bound("exclusiveMinimum", true, true));
    SOV_RETURN_IF_ERROR(bound("exclusiveMaximum", false, true));
    if (!bounded) return std::string("integer");
    if (lo > hi) return error(path, "no integer lies between minimum and maximum");
    std::vector<std::string> alts;
    if (lo < 0) {
      const int64_t mlo = hi < 0 ? -hi : 1, mhi = -lo;
      alts.push_back("\"-\" " + nonneg_range(mlo, mhi));
    }
    if (hi >= 0) alts.push_back(nonneg_range(std::max<int64_t>(lo, 0), hi));
    return add_rule(hint, join(alts, " | "));
  }

  const ojson& root_;
  SchemaOptions opt_;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::unordered_map<std::string, size_t> index_;
  std::unordered_map<std::string, std::string> by_body_;
  std::set<std::string> names_;
  std::unordered_map<std::string, std::string> refs_;
};

}  // namespace

Result<std::string> json_schema_to_gbnf(const nlohmann::ordered_json& schema, const SchemaOptions& options) {
  try {
    Converter c(schema, options);
    return c.run();
  } catch (const std::exception& e) {
    return Status::invalid_argument(std::string("JSON schema: ") + e.what());
  }
}

std::string json_object_gbnf(const SchemaOptions& options) {
  return "root ::= object\n" + primitives(options);
}

std::string json_value_gbnf(const SchemaOptions& options) {
  return "root ::= value\n" + primitives(options);
}

}  // namespace sov::grammar
