#include "grammar/token_trie.h"

#include <algorithm>
#include <numeric>

namespace sov::grammar {

TokenTrie::TokenTrie(const std::vector<std::string>& pieces) : n_tokens_(pieces.size()), pieces_(pieces) {
  // Sort the ids by their bytes; every node is then a contiguous range of that order that
  // shares a prefix, and is built from it without a pointer-based intermediate trie.
  std::vector<uint32_t> order;
  order.reserve(pieces.size());
  for (uint32_t i = 0; i < pieces.size(); ++i) {
    if (!pieces[i].empty()) order.push_back(i);
  }
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return pieces[a] != pieces[b] ? pieces[a] < pieces[b] : a < b; });

  struct Work {
    uint32_t node;
    size_t begin, end, depth;
  };
  nodes_.push_back({});
  std::vector<Work> todo = {{0, 0, order.size(), 0}};
  while (!todo.empty()) {
    Work w = todo.back();
    todo.pop_back();
    Node& node = nodes_[w.node];
    size_t i = w.begin;
    node.first_token = static_cast<uint32_t>(tokens_.size());
    while (i < w.end && pieces[order[i]].size() == w.depth) tokens_.push_back(order[i++]);
    node.n_tokens = static_cast<uint32_t>(tokens_.size()) - node.first_token;
    node.first_edge = static_cast<uint32_t>(edges_.size());
    std::vector<Work> children;
    while (i < w.end) {
      const uint8_t byte = static_cast<uint8_t>(pieces[order[i]][w.depth]);
      size_t j = i;
      while (j < w.end && static_cast<uint8_t>(pieces[order[j]][w.depth]) == byte) ++j;
      const uint32_t child = static_cast<uint32_t>(nodes_.size() + children.size());
      edges_.push_back({byte, child});
      children.push_back({child, i, j, w.depth + 1});
      i = j;
    }
    nodes_[w.node].n_edges = static_cast<uint32_t>(edges_.size()) - nodes_[w.node].first_edge;
    nodes_.resize(nodes_.size() + children.size());
    todo.insert(todo.end(), children.begin(), children.end());
  }
}

}  // namespace sov::grammar
