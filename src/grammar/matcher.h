// Matcher: runs a Grammar over UTF-8 bytes, one token at a time, and says which tokens of a
// vocabulary may come next.
//
// State: the set of pushdown stacks of grammar positions that the text so far can be in
// (a stack is empty once the root rule is complete), plus the bytes of a code point cut in
// the middle by a token boundary. Stack sets are interned into numbered states, and the
// state reached from a state by a byte is cached, so walking a TokenTrie costs one hash
// lookup per trie node once the states are warm; the allowed-token mask of a state is cached
// too. Limits bound the stacks per state, their depth, the work per step and the states kept
// (the caches are dropped and rebuilt when there are too many), so no grammar can make a
// step unbounded. A step that would exceed them is treated as not allowed (overflowed()).
//
// Text must be well-formed UTF-8 by the end; a token may end inside a code point.
//
// Not thread-safe: one Matcher per generation. The Grammar is shared and immutable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/token_trie.h"

namespace sov::grammar {

struct MatcherLimits {
  size_t max_stacks = 16384;     // stacks in one state (a big enum has one per value)
  size_t max_depth = 1024;       // positions in one stack (nesting)
  size_t max_work = 1u << 20;    // stack operations to compute one transition
  size_t max_states = 200000;    // interned states before the caches are dropped
  size_t max_cached_masks = 64;  // allowed-token masks kept
};

class Matcher {
 public:
  explicit Matcher(std::shared_ptr<const Grammar> grammar, const MatcherLimits& limits = {});
  ~Matcher();
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;

  // Advances over `bytes`; false (and no change) when the grammar does not allow them.
  bool accept(std::string_view bytes);
  // Whether accept(bytes) would succeed, without changing the state.
  bool can_accept(std::string_view bytes);
  // The text so far is a complete sentence of the grammar (it may also continue).
  bool is_complete() const;
  // Some continuation other than ending is possible.
  bool can_continue() const;
  // A limit was hit in some step (that step was refused).
  bool overflowed() const { return overflowed_; }
  void reset();

  // Bit i of the result is set when token i's bytes may come next (bitset of
  // trie.n_tokens() bits in 64-bit words). Valid until the next call on this Matcher.
  const std::vector<uint64_t>& allowed_tokens(const TokenTrie& trie);

  // Number of stacks in the current state (for tests and diagnostics).
  size_t n_stacks() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int32_t state_ = 0;
  bool overflowed_ = false;
};

}  // namespace sov::grammar
