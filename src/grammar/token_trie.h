// TokenTrie: the byte strings of a vocabulary's tokens as a trie, so that a grammar walks
// prefixes shared by many tokens once when it computes which tokens may come next.
//
// Built once per vocabulary (a few ms for 150k tokens) and immutable afterwards: safe to
// share between threads and requests. Tokens with an empty piece are never in the trie (so a
// grammar never allows them); callers leave control tokens out the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sov::grammar {

class TokenTrie {
 public:
  // pieces[i] is the bytes token i stands for; "" leaves the token out.
  explicit TokenTrie(const std::vector<std::string>& pieces);

  struct Node {
    uint32_t first_edge = 0;
    uint32_t n_edges = 0;
    uint32_t first_token = 0;  // tokens whose piece ends here: tokens()[first_token..+n_tokens)
    uint32_t n_tokens = 0;
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };

  size_t n_tokens() const { return n_tokens_; }              // vocabulary size (ids 0..n_tokens-1)
  const std::vector<Node>& nodes() const { return nodes_; }  // nodes()[0] is the root
  const std::vector<Edge>& edges() const { return edges_; }
  const std::vector<uint32_t>& tokens() const { return tokens_; }
  const std::string& piece(uint32_t id) const { return pieces_[id]; }

 private:
  size_t n_tokens_ = 0;
  std::vector<std::string> pieces_;
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::vector<uint32_t> tokens_;
};

}  // namespace sov::grammar
