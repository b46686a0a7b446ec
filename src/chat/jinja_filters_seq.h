// Jinja filters over sequences and mappings (internal to the filter registry in
// jinja_filters.cpp). Each has the FilterFn signature and Jinja2 3.1's semantics.
#pragma once

#include "chat/jinja_value.h"

namespace sov::chat::jinja {

Value f_batch(Runtime& rt, const Value& v, CallArgs& a);
Value f_dictsort(Runtime& rt, const Value& v, CallArgs& a);
Value f_first(Runtime& rt, const Value& v, CallArgs& a);
Value f_groupby(Runtime& rt, const Value& v, CallArgs& a);
Value f_items(Runtime& rt, const Value& v, CallArgs& a);
Value f_join(Runtime& rt, const Value& v, CallArgs& a);
Value f_last(Runtime& rt, const Value& v, CallArgs& a);
Value f_list(Runtime& rt, const Value& v, CallArgs& a);
Value f_map(Runtime& rt, const Value& v, CallArgs& a);
Value f_max(Runtime& rt, const Value& v, CallArgs& a);
Value f_min(Runtime& rt, const Value& v, CallArgs& a);
Value f_reject(Runtime& rt, const Value& v, CallArgs& a);
Value f_rejectattr(Runtime& rt, const Value& v, CallArgs& a);
Value f_reverse(Runtime& rt, const Value& v, CallArgs& a);
Value f_select(Runtime& rt, const Value& v, CallArgs& a);
Value f_selectattr(Runtime& rt, const Value& v, CallArgs& a);
Value f_slice(Runtime& rt, const Value& v, CallArgs& a);
Value f_sort(Runtime& rt, const Value& v, CallArgs& a);
Value f_sum(Runtime& rt, const Value& v, CallArgs& a);
Value f_unique(Runtime& rt, const Value& v, CallArgs& a);

}  // namespace sov::chat::jinja
