#include "chat/jinja_filters_seq.h"

#include <algorithm>

#include "chat/jinja_builtins.h"
#include "chat/jinja_error.h"
#include "chat/jinja_interp.h"
#include "chat/jinja_text.h"

namespace sov::chat::jinja {

namespace {

// Jinja's make_attrgetter: "a.b.0" looked up item-first, digits as integers.
class AttrGetter {
 public:
  AttrGetter() = default;
  explicit AttrGetter(const Value* attribute) {
    if (!attribute || attribute->is_none()) return;
    active_ = true;
    if (attribute->is_string()) {
      for (auto& part : text::split(attribute->as_string(), std::string("."), -1)) {
        bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
        parts_.push_back(digits ? Value(static_cast<int64_t>(std::stoll(part.substr(0, 18)))) : Value(part));
      }
    } else {
      parts_.push_back(*attribute);
    }
  }
  bool active() const { return active_; }
  Value operator()(Runtime& rt, Value item, const Value* fallback = nullptr) const {
    for (const auto& p : parts_) {
      item = rt.getitem(item, p);
      if (fallback && item.is_undefined()) item = *fallback;
    }
    return item;
  }

 private:
  bool active_ = false;
  std::vector<Value> parts_;
};

Value ignore_case(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value(text::lower(v.as_string()));
  return v;
}

bool flag(const Value* v) {
  return v && truthy(*v);
}

void check_hashable(const Value& v) {
  if (v.is_dict() || (v.is_list() && !v.is_tuple()))
    throw_type_error("unhashable type: '" + type_name(v) + "'");
}

// select / reject / selectattr / rejectattr.
Value select_or_reject(Runtime& rt, const Value& v, CallArgs& a, bool keep_when, bool lookup_attr) {
  if (!truthy(v)) return Value::generator({});
  size_t off = 0;
  AttrGetter getter;
  if (lookup_attr) {
    if (a.positional.empty()) throw Error("FilterArgumentError", "Missing parameter for attribute name");
    getter = AttrGetter(&a.positional[0]);
    off = 1;
  }
  bool has_test = a.positional.size() > off;
  std::string test_name = has_test ? arg_string(a.positional[off], "test name") : "";
  List out;
  for (const auto& item : iterate(rt, v)) {
    rt.count_steps(1);
    Value x = lookup_attr ? getter(rt, item) : item;
    bool r;
    if (has_test) {
      CallArgs args;
      args.positional.assign(a.positional.begin() + static_cast<std::ptrdiff_t>(off + 1), a.positional.end());
      args.keyword = a.keyword;
      r = rt.test(test_name, x, args);
    } else {
      r = truthy(x);
    }
    if (r == keep_when) out.push_back(item);
  }
  return Value::generator(std::move(out));
}

// Stable sort by key with Python ordering; `reverse` keeps equal items in input order.
void sort_by_key(std::vector<std::pair<Value, Value>>* keyed, bool reverse) {
  std::stable_sort(keyed->begin(), keyed->end(), [reverse](const auto& x, const auto& y) {
    return reverse ? compare(y.first, x.first) < 0 : compare(x.first, y.first) < 0;
  });
}

}  // namespace

Value f_select(Runtime& rt, const Value& v, CallArgs& a) {
  return select_or_reject(rt, v, a, true, false);
}
Value f_reject(Runtime& rt, const Value& v, CallArgs& a) {
  return select_or_reject(rt, v, a, false, false);
}
Value f_selectattr(Runtime& rt, const Value& v, CallArgs& a) {
  return select_or_reject(rt, v, a, true, true);
}
Value f_rejectattr(Runtime& rt, const Value& v, CallArgs& a) {
  return select_or_reject(rt, v, a, false, true);
}

Value f_map(Runtime& rt, const Value& v, CallArgs& a) {
  if (!truthy(v)) return Value::generator({});
  List out;
  if (a.positional.empty() && !a.keyword.empty() && a.keyword[0].first == "attribute") {
    Value attribute, fallback = Value::none();
    bool has_default = false;
    for (auto& [k, val] : a.keyword) {
      if (k == "attribute") {
        attribute = val;
      } else if (k == "default") {
        fallback = val;
        has_default = !val.is_none();
      } else {
        throw Error("FilterArgumentError", "Unexpected keyword argument " + repr_string(k));
      }
    }
    AttrGetter getter(&attribute);
    for (const auto& item : iterate(rt, v)) {
      rt.count_steps(1);
      out.push_back(getter(rt, item, has_default ? &fallback : nullptr));
    }
    return Value::generator(std::move(out));
  }
  if (a.positional.empty()) throw Error("FilterArgumentError", "map requires a filter argument");
  std::string name = arg_string(a.positional[0], "filter name");
  for (const auto& item : iterate(rt, v)) {
    rt.count_steps(1);
    CallArgs args;
    args.positional.assign(a.positional.begin() + 1, a.positional.end());
    args.keyword = a.keyword;
    out.push_back(rt.filter(name, item, args));
  }
  return Value::generator(std::move(out));
}

Value f_join(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "join", {"d", "attribute"});
  std::string sep = b.get(0) ? to_str(*b.get(0)) : "";
  AttrGetter getter(b.get(1));
  std::string out;
  bool first = true;
  for (const auto& item : iterate(rt, v)) {
    if (!first) out += sep;
    first = false;
    out += to_str(getter.active() ? getter(rt, item) : item);
    rt.check_size(out.size());
  }
  return Value(std::move(out));
}

Value f_list(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "list", {});
  return Value::list(iterate(rt, v));
}

Value f_items(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "items", {});
  if (v.is_undefined()) return Value::generator({});
  if (!v.is_dict()) throw_type_error("Can only get item pairs from a mapping.");
  List out;
  for (const auto& [k, val] : v.as_dict().items()) out.push_back(Value::tuple({k, val}));
  return Value::generator(std::move(out));
}

Value f_first(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "first", {});
  List items = iterate(rt, v);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value f_last(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "last", {});
  if (v.is_generator()) throw_type_error("'generator' object is not reversible");
  List items = iterate(rt, v);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value f_reverse(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "reverse", {});
  if (v.is_string()) {
    std::u32string s = text::decode(v.as_string());
    std::reverse(s.begin(), s.end());
    return Value(text::encode(s));
  }
  if (!v.is_list() && !v.is_dict() && !v.is_undefined()) {
    throw Error("FilterArgumentError", "argument must be iterable");
  }
  List items = iterate(rt, v);
  std::reverse(items.begin(), items.end());
  return Value::generator(std::move(items));
}

Value f_sort(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "sort", {"reverse", "case_sensitive", "attribute"});
  bool reverse = flag(b.get(0));
  bool case_sensitive = flag(b.get(1));
  // "a,b" sorts by several attributes (a list key).
  std::vector<AttrGetter> getters;
  if (b.get(2) && b.get(2)->is_string()) {
    for (const auto& part : text::split(b.get(2)->as_string(), std::string(","), -1)) {
      Value p(part);
      getters.emplace_back(&p);
    }
  } else if (b.get(2) && !b.get(2)->is_none()) {
    getters.emplace_back(b.get(2));
  }
  std::vector<std::pair<Value, Value>> keyed;
  for (const auto& item : iterate(rt, v)) {
    Value key;
    if (getters.empty()) {
      key = ignore_case(item, case_sensitive);
    } else {
      List parts;
      for (const auto& g : getters) parts.push_back(ignore_case(g(rt, item), case_sensitive));
      key = getters.size() == 1 ? parts[0] : Value::list(std::move(parts));
    }
    keyed.emplace_back(std::move(key), item);
  }
  rt.count_steps(keyed.size());
  sort_by_key(&keyed, reverse);
  List out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::list(std::move(out));
}

Value f_dictsort(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "dictsort", {"case_sensitive", "by", "reverse"});
  bool case_sensitive = flag(b.get(0));
  std::string by = b.get(1) ? arg_string(*b.get(1), "by") : "key";
  if (by != "key" && by != "value") {
    throw Error("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
  }
  if (!v.is_dict()) throw Error("AttributeError", "'" + type_name(v) + "' object has no attribute 'items'");
  std::vector<std::pair<Value, Value>> keyed;
  for (const auto& [k, val] : v.as_dict().items()) {
    keyed.emplace_back(ignore_case(by == "key" ? k : val, case_sensitive), Value::tuple({k, val}));
  }
  rt.count_steps(keyed.size());
  sort_by_key(&keyed, flag(b.get(2)));
  List out;
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::list(std::move(out));
}

Value f_unique(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "unique", {"case_sensitive", "attribute"});
  bool case_sensitive = flag(b.get(0));
  AttrGetter getter(b.get(1));
  List seen, out;
  for (const auto& item : iterate(rt, v)) {
    Value key = ignore_case(getter.active() ? getter(rt, item) : item, case_sensitive);
    check_hashable(key);
    rt.count_steps(seen.size() + 1);
    bool dup = false;
    for (const auto& s : seen) {
      if (equals(s, key)) dup = true;
    }
    if (!dup) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Value::generator(std::move(out));
}

namespace {
Value min_or_max(Runtime& rt, const Value& v, CallArgs& a, const char* name, bool want_max) {
  ArgBinder b(a, name, {"case_sensitive", "attribute"});
  bool case_sensitive = flag(b.get(0));
  AttrGetter getter(b.get(1));
  List items = iterate(rt, v);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key = ignore_case(getter.active() ? getter(rt, items[0]) : items[0], case_sensitive);
  for (size_t i = 1; i < items.size(); ++i) {
    Value key = ignore_case(getter.active() ? getter(rt, items[i]) : items[i], case_sensitive);
    int c = compare(key, best_key);
    if (want_max ? c > 0 : c < 0) {
      best = i;
      best_key = std::move(key);
    }
  }
  return items[best];
}
}  // namespace

Value f_max(Runtime& rt, const Value& v, CallArgs& a) {
  return min_or_max(rt, v, a, "max", true);
}
Value f_min(Runtime& rt, const Value& v, CallArgs& a) {
  return min_or_max(rt, v, a, "min", false);
}

Value f_sum(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "sum", {"attribute", "start"});
  AttrGetter getter(b.get(0));
  Value total = b.get_or(1, Value(int64_t{0}));
  if (total.is_string()) throw_type_error("sum() can't sum strings [use ''.join(seq) instead]");
  for (const auto& item : iterate(rt, v))
    total = binary_op(rt, "+", total, getter.active() ? getter(rt, item) : item);
  return total;
}

Value f_batch(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "batch", {"linecount", "fill_with"});
  if (!b.get(0)) throw_type_error("do_batch() missing 1 required positional argument: 'linecount'");
  int64_t count = arg_int(*b.get(0), "linecount");
  const Value* fill = b.get(1) && !b.get(1)->is_none() ? b.get(1) : nullptr;
  List out, tmp;
  for (const auto& item : iterate(rt, v)) {
    if (static_cast<int64_t>(tmp.size()) == count) {
      out.push_back(Value::list(std::move(tmp)));
      tmp.clear();
    }
    tmp.push_back(item);
  }
  if (!tmp.empty()) {
    if (fill) {
      rt.count_steps(static_cast<uint64_t>(std::max<int64_t>(0, count - static_cast<int64_t>(tmp.size()))));
      while (static_cast<int64_t>(tmp.size()) < count) tmp.push_back(*fill);
    }
    out.push_back(Value::list(std::move(tmp)));
  }
  return Value::generator(std::move(out));
}

Value f_slice(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "slice", {"slices", "fill_with"});
  if (!b.get(0)) throw_type_error("do_slice() missing 1 required positional argument: 'slices'");
  int64_t slices = arg_int(*b.get(0), "slices");
  if (slices <= 0) throw Error("ZeroDivisionError", "integer division or modulo by zero");
  const Value* fill = b.get(1) && !b.get(1)->is_none() ? b.get(1) : nullptr;
  List seq = iterate(rt, v);
  rt.count_steps(static_cast<uint64_t>(slices));
  const auto n = static_cast<int64_t>(seq.size());
  int64_t per = n / slices, extra = n % slices, offset = 0;
  List out;
  for (int64_t i = 0; i < slices; ++i) {
    int64_t start = offset + i * per;
    if (i < extra) ++offset;
    int64_t end = offset + (i + 1) * per;
    List part(seq.begin() + start, seq.begin() + end);
    if (fill && i >= extra) part.push_back(*fill);
    out.push_back(Value::list(std::move(part)));
  }
  return Value::generator(std::move(out));
}

Value f_groupby(Runtime& rt, const Value& v, CallArgs& a) {
  ArgBinder b(a, "groupby", {"attribute", "default", "case_sensitive"});
  if (!b.get(0)) throw_type_error("do_groupby() missing 1 required positional argument: 'attribute'");
  AttrGetter getter(b.get(0));
  const Value* fallback = b.get(1) && !b.get(1)->is_none() ? b.get(1) : nullptr;
  bool case_sensitive = flag(b.get(2));
  std::vector<std::pair<Value, Value>> keyed;
  for (const auto& item : iterate(rt, v)) {
    keyed.emplace_back(ignore_case(getter(rt, item, fallback), case_sensitive), item);
  }
  sort_by_key(&keyed, false);
  List out;
  for (size_t i = 0; i < keyed.size();) {
    size_t j = i;
    List group;
    while (j < keyed.size() && equals(keyed[j].first, keyed[i].first)) group.push_back(keyed[j++].second);
    Value grouper = case_sensitive ? keyed[i].first : getter(rt, group[0], fallback);
    out.push_back(Value::tuple({grouper, Value::list(std::move(group))}));
    i = j;
  }
  return Value::list(std::move(out));
}

}  // namespace sov::chat::jinja
