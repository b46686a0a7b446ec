#include "grammar/matcher.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "base/utf8.h"

namespace sov::grammar {

namespace {

using Stack = std::vector<uint32_t>;

struct StackSet {
  std::vector<Stack> stacks;  // sorted, unique; the empty stack means "complete"
  bool complete = false;
  bool has_chars = false;  // some stack waits for a character
};

struct State {
  int32_t dense = -1;    // index of its dense transition row, once it is hot
  uint32_t lookups = 0;  // transitions looked up in the hash table
  int32_t set;
  uint32_t acc;  // bits of a code point cut by a token boundary
  uint8_t need;  // continuation bytes still to come (0: at a character boundary)
  uint8_t len;   // length of that code point's encoding
};

// (state, byte) -> state, open addressing with linear probing. The hot path of mask
// computation, so no std::unordered_map.
class TransitionTable {
 public:
  static constexpr int32_t kMissing = INT32_MIN;

  TransitionTable() { clear(); }
  void clear() {
    keys_.assign(1024, 0);
    vals_.assign(1024, 0);
    mask_ = 1023;
    size_ = 0;
  }
  int32_t find(uint64_t key) const {
    const uint64_t k = key + 1;
    for (size_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == k) return vals_[i];
      if (keys_[i] == 0) return kMissing;
    }
  }
  void insert(uint64_t key, int32_t value) {
    if ((size_ + 1) * 2 > keys_.size()) grow();
    put(key + 1, value);
  }

 private:
  static size_t hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  void put(uint64_t k, int32_t value) {
    size_t i = hash(k) & mask_;
    while (keys_[i] != 0 && keys_[i] != k) i = (i + 1) & mask_;
    if (keys_[i] == 0) ++size_;
    keys_[i] = k;
    vals_[i] = value;
  }
  void grow() {
    std::vector<uint64_t> keys = std::move(keys_);
    std::vector<int32_t> vals = std::move(vals_);
    keys_.assign(keys.size() * 2, 0);
    vals_.assign(keys.size() * 2, 0);
    mask_ = keys_.size() - 1;
    size_ = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] != 0) put(keys[i], vals[i]);
    }
  }
  std::vector<uint64_t> keys_;
  std::vector<int32_t> vals_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

constexpr uint32_t kMinForLength[5] = {0, 0, 0x80, 0x800, 0x10000};

}  // namespace

struct Matcher::Impl {
  std::shared_ptr<const Grammar> g;
  MatcherLimits limits;
  std::vector<StackSet> sets;
  std::unordered_map<std::string, int32_t> set_ids;
  std::vector<State> states;
  std::unordered_map<uint64_t, int32_t> state_ids;
  TransitionTable trans;
  std::vector<int32_t> dense;  // rows of 256 transitions of hot states
  std::unordered_map<int32_t, std::vector<uint64_t>> masks;
  const TokenTrie* mask_trie = nullptr;
  std::vector<uint64_t> scratch_mask;
  bool overflow = false;
  std::vector<Stack> todo;

  struct Frame {
    uint32_t node;
    int32_t state;
    uint32_t next_edge;
  };
  std::vector<Frame> frames;

  int32_t intern_set(std::vector<Stack> stacks) {
    std::string key;
    for (const Stack& s : stacks) {
      const uint32_t n = static_cast<uint32_t>(s.size());
      key.append(reinterpret_cast<const char*>(&n), sizeof n);
      key.append(reinterpret_cast<const char*>(s.data()), s.size() * sizeof(uint32_t));
    }
    auto it = set_ids.find(key);
    if (it != set_ids.end()) return it->second;
    StackSet ss;
    for (const Stack& s : stacks) {
      if (s.empty()) {
        ss.complete = true;
      } else {
        ss.has_chars = true;
      }
    }
    ss.stacks = std::move(stacks);
    const int32_t id = static_cast<int32_t>(sets.size());
    sets.push_back(std::move(ss));
    set_ids.emplace(std::move(key), id);
    return id;
  }

  int32_t intern_state(int32_t set, uint32_t acc, uint8_t need, uint8_t len) {
    const uint64_t key = (static_cast<uint64_t>(set) << 32) | (static_cast<uint64_t>(acc) << 8) |
                         (static_cast<uint64_t>(need) << 4) | len;
    auto it = state_ids.find(key);
    if (it != state_ids.end()) return it->second;
    const int32_t id = static_cast<int32_t>(states.size());
    states.push_back({-1, 0, set, acc, need, len});
    state_ids.emplace(key, id);
    return id;
  }

  // Expands `start` until every stack waits for a character or is empty (complete), adding
  // those to `out`. False when the work limit is hit.
  bool expand(Stack start, std::vector<Stack>* out, size_t* work) {
    const auto& el = g->elems();
    todo.clear();
    todo.push_back(std::move(start));
    while (!todo.empty()) {
      if (++*work > limits.max_work) {
        overflow = true;
        return false;
      }
      Stack cur = std::move(todo.back());
      todo.pop_back();
      if (cur.empty()) {
        out->push_back(std::move(cur));
        continue;
      }
      const uint32_t pos = cur.back();
      const Elem e = el[pos];
      if (e.kind == ElemKind::kChars) {
        out->push_back(std::move(cur));
        continue;
      }
      cur.pop_back();
      if (is_end_of_alt(e)) {  // this alternative is done: return to the caller
        todo.push_back(std::move(cur));
        continue;
      }
      // A reference: remember where to continue (unless this was the last element, so that
      // right recursion does not grow the stack), then enter each alternative.
      if (!is_end_of_alt(el[pos + 1])) cur.push_back(pos + 1);
      if (cur.size() + 1 > limits.max_depth) {
        overflow = true;
        continue;
      }
      const auto& alts = g->alternatives(e.value);
      for (size_t i = 0; i < alts.size(); ++i) {
        Stack next = (i + 1 == alts.size()) ? std::move(cur) : cur;
        next.push_back(alts[i]);
        todo.push_back(std::move(next));
      }
    }
    return true;
  }

  // The state after code point `cp` at a character boundary of `set`; -1 if none.
  int32_t advance_cp(int32_t set, uint32_t cp) {
    const auto& el = g->elems();
    const auto& classes = g->classes();
    std::vector<Stack> out;
    size_t work = 0;
    const std::vector<Stack>& stacks = sets[set].stacks;
    for (const Stack& s : stacks) {
      if (s.empty()) continue;
      if (!classes[el[s.back()].value].matches(cp)) continue;
      Stack next = s;
      next.back() += 1;
      if (!expand(std::move(next), &out, &work)) return -1;
    }
    if (out.empty()) return -1;
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    if (out.size() > limits.max_stacks) {
      overflow = true;
      return -1;
    }
    return intern_state(intern_set(std::move(out)), 0, 0, 0);
  }

  bool set_may_match(int32_t set, uint32_t lo, uint32_t hi) const {
    const auto& el = g->elems();
    const auto& classes = g->classes();
    for (const Stack& s : sets[set].stacks) {
      if (!s.empty() && classes[el[s.back()].value].matches_any(lo, hi)) return true;
    }
    return false;
  }

  int32_t compute_step(int32_t state, uint8_t byte) {
    const State st = states[state];
    if (st.need == 0) {
      if (byte < 0x80) return advance_cp(st.set, byte);
      const uint8_t len = static_cast<uint8_t>(utf8::sequence_length(byte));
      if (len < 2) return -1;
      const uint32_t acc = byte & (0x7Fu >> len);
      const int shift = 6 * (len - 1);
      const uint32_t lo = std::max(acc << shift, kMinForLength[len]);
      const uint32_t hi = std::min((acc << shift) | ((1u << shift) - 1), 0x10FFFFu);
      if (lo > hi || !set_may_match(st.set, lo, hi)) return -1;
      return intern_state(st.set, acc, static_cast<uint8_t>(len - 1), len);
    }
    if ((byte & 0xC0) != 0x80) return -1;
    const uint32_t acc = (st.acc << 6) | (byte & 0x3F);
    const uint8_t need = static_cast<uint8_t>(st.need - 1);
    if (need == 0) {
      if (acc < kMinForLength[st.len] || acc > 0x10FFFF || (acc >= 0xD800 && acc <= 0xDFFF)) return -1;
      return advance_cp(st.set, acc);
    }
    const int shift = 6 * need;
    const uint32_t lo = std::max(acc << shift, kMinForLength[st.len]);
    const uint32_t hi = std::min((acc << shift) | ((1u << shift) - 1), 0x10FFFFu);
    if (lo > hi || !set_may_match(st.set, lo, hi)) return -1;
    return intern_state(st.set, acc, need, st.len);
  }

  // Hot states (looked up often, e.g. the inside of a JSON string, where most trie nodes
  // are visited) get a dense row of 256 transitions: an array read instead of a hash probe.
  static constexpr uint32_t kHotLookups = 64;
  static constexpr size_t kMaxDenseRows = 4096;  // 4 MB

  int32_t step(int32_t state, uint8_t byte) {
    State& st = states[state];
    if (st.dense >= 0) {
      int32_t& slot = dense[static_cast<size_t>(st.dense) * 256 + byte];
      if (slot == TransitionTable::kMissing) slot = step_hashed(state, byte);
      return slot;
    }
    if (++st.lookups > kHotLookups && dense.size() < kMaxDenseRows * 256) {
      st.dense = static_cast<int32_t>(dense.size() / 256);
      dense.resize(dense.size() + 256, TransitionTable::kMissing);
    }
    return step_hashed(state, byte);
  }

  int32_t step_hashed(int32_t state, uint8_t byte) {
    const uint64_t key = (static_cast<uint64_t>(state) << 8) | byte;
    int32_t next = trans.find(key);
    if (next != TransitionTable::kMissing) return next;
    next = compute_step(state, byte);
    trans.insert(key, next);
    return next;
  }

  int32_t initial_state() {
    std::vector<Stack> out;
    size_t work = 0;
    for (uint32_t alt : g->alternatives(g->root())) {
      if (!expand(Stack{alt}, &out, &work)) break;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    if (out.size() > limits.max_stacks) {
      overflow = true;
      out.resize(limits.max_stacks);
    }
    return intern_state(intern_set(std::move(out)), 0, 0, 0);
  }

  // Drops every cache when too many states piled up; returns `current` renumbered.
  int32_t maybe_reset(int32_t current) {
    if (states.size() <= limits.max_states) return current;
    const State st = states[current];
    std::vector<Stack> stacks = sets[st.set].stacks;
    sets.clear();
    set_ids.clear();
    states.clear();
    state_ids.clear();
    trans.clear();
    dense.clear();
    masks.clear();
    initial_state();  // stays state 0
    return intern_state(intern_set(std::move(stacks)), st.acc, st.need, st.len);
  }

  void compute_mask(int32_t state, const TokenTrie& trie, std::vector<uint64_t>* bits) {
    bits->assign((trie.n_tokens() + 63) / 64, 0);
    const auto& nodes = trie.nodes();
    const auto& edges = trie.edges();
    const auto& tokens = trie.tokens();
    frames.clear();
    frames.push_back({0, state, 0});
    while (!frames.empty()) {
      Frame& f = frames.back();
      const TokenTrie::Node& node = nodes[f.node];
      if (f.next_edge == node.n_edges) {
        frames.pop_back();
        continue;
      }
      const TokenTrie::Edge edge = edges[node.first_edge + f.next_edge++];
      const int32_t next = step(f.state, edge.byte);
      if (next < 0) continue;
      const TokenTrie::Node& child = nodes[edge.child];
      for (uint32_t i = 0; i < child.n_tokens; ++i) {
        const uint32_t id = tokens[child.first_token + i];
        (*bits)[id >> 6] |= uint64_t{1} << (id & 63);
      }
      if (child.n_edges > 0) frames.push_back({edge.child, next, 0});  // invalidates f
    }
  }
};

Matcher::Matcher(std::shared_ptr<const Grammar> grammar, const MatcherLimits& limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->g = std::move(grammar);
  impl_->limits = limits;
  state_ = impl_->initial_state();
  overflowed_ = impl_->overflow;
}

Matcher::~Matcher() = default;
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

bool Matcher::accept(std::string_view bytes) {
  state_ = impl_->maybe_reset(state_);
  int32_t s = state_;
  for (char c : bytes) {
    s = impl_->step(s, static_cast<uint8_t>(c));
    if (s < 0) break;
  }
  overflowed_ = overflowed_ || impl_->overflow;
  if (s < 0) return false;
  state_ = s;
  return true;
}

bool Matcher::can_accept(std::string_view bytes) {
  state_ = impl_->maybe_reset(state_);
  int32_t s = state_;
  for (char c : bytes) {
    s = impl_->step(s, static_cast<uint8_t>(c));
    if (s < 0) return false;
  }
  return true;
}

bool Matcher::is_complete() const {
  const State& st = impl_->states[state_];
  return st.need == 0 && impl_->sets[st.set].complete;
}

bool Matcher::can_continue() const {
  const State& st = impl_->states[state_];
  return st.need > 0 || impl_->sets[st.set].has_chars;
}

size_t Matcher::n_stacks() const {
  return impl_->sets[impl_->states[state_].set].stacks.size();
}

void Matcher::reset() {
  state_ = 0;  // initial_state() is always state 0 (also after maybe_reset)
}

const std::vector<uint64_t>& Matcher::allowed_tokens(const TokenTrie& trie) {
  state_ = impl_->maybe_reset(state_);
  Impl& m = *impl_;
  if (m.mask_trie != &trie) {
    m.masks.clear();
    m.mask_trie = &trie;
  }
  if (m.limits.max_cached_masks > 0) {
    auto it = m.masks.find(state_);
    if (it != m.masks.end()) return it->second;
  }
  if (m.masks.size() >= m.limits.max_cached_masks) m.masks.clear();
  std::vector<uint64_t>& bits = m.masks[state_];
  m.compute_mask(state_, trie, &bits);
  overflowed_ = overflowed_ || m.overflow;
  return bits;
}

}  // namespace sov::grammar
