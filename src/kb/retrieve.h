// Retrieval: keyword (FTS5 BM25), vector (HNSW, or exact for small or filtered sets) and
// hybrid (reciprocal rank fusion of both) search over one knowledge base, with filters by
// path glob and modification time, top-k and optional MMR diversity.
//
// User text never reaches FTS5's query syntax: it is reduced to its words, each quoted, so
// any input is a valid query. Every search runs in one read transaction, so results are a
// consistent snapshot even while another process is indexing: each hit exists, with the
// text of one committed version, and no chunk appears twice.
//
// Scores: keyword = -bm25 (higher is better), vector = cosine similarity, hybrid = RRF sum
// (sum over lists of 1 / (60 + rank)). Results are best first.
//
// Thread-safety: as KnowledgeBase (one thread per instance).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "kb/embedder.h"
#include "kb/knowledge_base.h"

namespace sov::kb {

enum class SearchMode { kKeyword, kVector, kHybrid };

Result<SearchMode> parse_search_mode(std::string_view text);
const char* search_mode_name(SearchMode mode);

struct SearchQuery {
  std::string text;
  int32_t k = 5;
  std::optional<SearchMode> mode;          // default: hybrid with an embedding model, else keyword
  std::string path_glob;                   // see path_filter_match() in glob.h; "" for all
  std::optional<int64_t> modified_after;   // unix seconds, inclusive
  std::optional<int64_t> modified_before;  // unix seconds, exclusive
  bool mmr = false;
  float mmr_lambda = 0.7f;  // 1: relevance only, 0: diversity only
  // Vector search is exact below this many vectors (and whenever a filter is set), through
  // the HNSW index above it.
  int64_t exact_below = 4096;
  // Keyword search scores every chunk matching any query word, so on a large base it keeps
  // the rarest words while the chunks they match stay within this many, and drops words found
  // in more than half of the chunks (near-zero IDF); the rarest word always stays. Applies
  // once the base holds twice this many chunks.
  int64_t max_keyword_postings = 5000;
};

struct SearchHit {
  int64_t chunk_id = 0;
  std::string path;
  int32_t line_first = 0;
  int32_t line_last = 0;
  std::string heading;
  std::string text;
  double score = 0;
  int64_t mtime_ns = 0;
};

// `embedder` is needed for vector and hybrid modes (it must be the base's model).
Result<std::vector<SearchHit>> search(KnowledgeBase& kb, const SearchQuery& query, Embedder* embedder);

// The FTS5 MATCH expression for user text: its words quoted and OR-ed; "" when it has none.
std::string fts_query(std::string_view text);

// Reciprocal rank fusion of ranked id lists (best first).
std::vector<std::pair<int64_t, double>> reciprocal_rank_fusion(const std::vector<std::vector<int64_t>>& lists,
                                                               double k = 60.0);

// Greedy maximal marginal relevance: picks `k` of the candidates (relevance given, higher
// better), trading relevance against similarity to those already picked.
std::vector<size_t> mmr_select(const std::vector<double>& relevance,
                               const std::vector<std::vector<float>>& vectors, size_t k, double lambda);

}  // namespace sov::kb
