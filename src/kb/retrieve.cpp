#include "kb/retrieve.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace sov::kb {
namespace {

constexpr size_t kMaxQueryWords = 32;
constexpr double kRrfK = 60.0;

struct Filter {
  std::string glob;
  int64_t after_ns = std::numeric_limits<int64_t>::min();
  int64_t before_ns = std::numeric_limits<int64_t>::max();
  bool active() const {
    return !glob.empty() || after_ns != std::numeric_limits<int64_t>::min() ||
           before_ns != std::numeric_limits<int64_t>::max();
  }
};

// The filter clause; its parameters are ?2 (glob), ?3 (after), ?4 (before).
constexpr const char* kFilterSql =
    " AND (?2 = '' OR kb_path_match(?2, d.path)) AND d.mtime_ns >= ?3 AND d.mtime_ns < ?4";

void bind_filter(Stmt& st, const Filter& f) {
  st.bind(2, f.glob).bind(3, f.after_ns).bind(4, f.before_ns);
}

using Ranked = std::vector<std::pair<int64_t, double>>;

Result<Ranked> keyword_ranked(KnowledgeBase& kb, const std::string& match, const Filter& f, int64_t n) {
  Ranked out;
  if (match.empty()) return out;
  // Without a filter FTS5 ranks and cuts on its own; with one, matches join their document.
  std::string sql =
      f.active() ? std::string(
                       "SELECT c.id, chunks_fts.rank FROM chunks_fts "
                       "JOIN chunks c ON c.id = chunks_fts.rowid "
                       "JOIN documents d ON d.id = c.doc_id "
                       "WHERE chunks_fts MATCH ?1") +
                       kFilterSql + " ORDER BY chunks_fts.rank LIMIT ?5"
                 : "SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ?1 ORDER BY rank LIMIT ?5";
  SOV_ASSIGN_OR_RETURN(Stmt st, kb.db().prepare(sql));
  st.bind(1, match);
  if (f.active()) bind_filter(st, f);
  st.bind(5, n);
  while (true) {
    SOV_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.emplace_back(st.int64(0), -st.real(1));
  }
  return out;
}

Result<Ranked> vector_ranked(KnowledgeBase& kb, const std::vector<float>& q, const Filter& f, int64_t n,
                             uint64_t gen, VectorIndex* index) {
  Ranked out;
  const size_t dim = q.size();
  if (!index) {
    // Exact: every current vector that passes the filter.
    SOV_ASSIGN_OR_RETURN(Stmt st,
                         kb.db().prepare(std::string("SELECT c.id, c.embedding FROM chunks c "
                                                     "JOIN documents d ON d.id = c.doc_id "
                                                     "WHERE c.embed_gen = ?1 AND c.embedding IS NOT NULL") +
                                         kFilterSql));
    st.bind(1, static_cast<int64_t>(gen));
    bind_filter(st, f);
    std::vector<int64_t> ids;
    std::vector<float> vectors;
    while (true) {
      SOV_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      std::span<const uint8_t> b = st.blob(1);
      if (b.size() != dim * sizeof(float)) continue;
      ids.push_back(st.int64(0));
      size_t at = vectors.size();
      vectors.resize(at + dim);
      std::memcpy(vectors.data() + at, b.data(), b.size());
    }
    for (const VectorHit& h : exact_search(q, vectors, ids, static_cast<size_t>(n)))
      out.emplace_back(h.id, h.score);
    return out;
  }
  // Approximate: candidates from the index, confirmed (and rescored) against this snapshot.
  std::vector<VectorHit> hits = index->search(q, static_cast<size_t>(n) * 2, std::max<size_t>(256, n * 4));
  SOV_ASSIGN_OR_RETURN(Stmt st,
                       kb.db().prepare("SELECT embedding FROM chunks WHERE id = ?1 AND embed_gen = ?2 "
                                       "AND embedding IS NOT NULL"));
  for (const VectorHit& h : hits) {
    st.bind(1, h.id).bind(2, static_cast<int64_t>(gen));
    SOV_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) {
      std::span<const uint8_t> b = st.blob(0);
      if (b.size() == dim * sizeof(float)) {
        std::vector<float> v = blob_to_vector(b);
        out.emplace_back(h.id, dot(q, v));
      }
    }
    st.reset();
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (static_cast<int64_t>(out.size()) > n) out.resize(static_cast<size_t>(n));
  return out;
}

// A hashed bag of words, L2-normalised: the similarity MMR uses when chunks have no vectors.
std::vector<float> word_vector(std::string_view text) {
  std::vector<float> v(256, 0.0f);
  uint32_t h = 2166136261u;
  bool in_word = false;
  auto flush = [&] {
    if (in_word) v[h % v.size()] += 1.0f;
    h = 2166136261u;
    in_word = false;
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      h = (h ^ static_cast<uint32_t>(std::tolower(c))) * 16777619u;
      in_word = true;
    } else {
      flush();
    }
  }
  flush();
  float norm = 0;
  for (float x : v) norm += x * x;
  if (norm > 0)
    for (float& x : v) x /= std::sqrt(norm);
  return v;
}

}  // namespace

Result<SearchMode> parse_search_mode(std::string_view text) {
  if (text == "keyword") return SearchMode::kKeyword;
  if (text == "vector") return SearchMode::kVector;
  if (text == "hybrid") return SearchMode::kHybrid;
  return Status::invalid_argument(
      fmt::format("unknown search mode \"{}\" (keyword, vector or hybrid)", text));
}

const char* search_mode_name(SearchMode mode) {
  switch (mode) {
    case SearchMode::kKeyword: return "keyword";
    case SearchMode::kVector: return "vector";
    case SearchMode::kHybrid: return "hybrid";
  }
  return "keyword";
}

namespace {

// The words of user text, as unicode61 splits them (ASCII letters/digits and any non-ASCII
// byte), each once, at most kMaxQueryWords.
std::vector<std::string> query_words(std::string_view text) {
  std::vector<std::string> words;
  std::unordered_set<std::string> seen;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty() && words.size() < kMaxQueryWords && seen.insert(cur).second) words.push_back(cur);
    cur.clear();
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      cur += ch;
    } else {
      flush();
    }
  }
  flush();
  return words;
}

std::string match_expression(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    if (!out.empty()) out += " OR ";
    out += '"';
    out += w;  // only [A-Za-z0-9] and bytes >= 0x80: no quote to escape
    out += '"';
  }
  return out;
}

// FTS5 scores every chunk that matches any of the OR-ed words, so a word found in a large
// part of the base costs much and adds almost nothing (its IDF is near zero; FTS5 floors a
// negative one). See SearchQuery::max_keyword_postings. Words with non-ASCII bytes are kept
// as they are (their indexed form is case- and diacritic-folded).
Result<std::vector<std::string>> prune_common_words(Db& db, const std::vector<std::string>& words,
                                                    int64_t n_chunks, int64_t max_postings) {
  if (words.size() <= 1 || n_chunks < 2 * max_postings) return words;
  SOV_RETURN_IF_ERROR(db.exec(
      "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_fts_vocab USING fts5vocab(main, chunks_fts, row)"));
  SOV_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT doc FROM temp.chunks_fts_vocab WHERE term = ?1"));
  std::vector<std::pair<int64_t, std::string>> counted;  // (chunks holding it, word)
  std::vector<std::string> kept;
  for (const std::string& w : words) {
    if (std::any_of(w.begin(), w.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
      kept.push_back(w);
      continue;
    }
    std::string lower = w;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    st.bind(1, lower);
    SOV_ASSIGN_OR_RETURN(bool row, st.step());
    int64_t df = row ? st.int64(0) : 0;
    st.reset();
    if (df > 0) counted.emplace_back(df, w);
  }
  std::sort(counted.begin(), counted.end());
  int64_t postings = 0;
  for (const auto& [df, w] : counted) {
    const bool first = kept.empty() && postings == 0;
    if (!first && (df * 2 > n_chunks || postings + df > max_postings)) break;
    kept.push_back(w);
    postings += df;
  }
  return kept;
}

}  // namespace

std::string fts_query(std::string_view text) {
  return match_expression(query_words(text));
}

std::vector<std::pair<int64_t, double>> reciprocal_rank_fusion(const std::vector<std::vector<int64_t>>& lists,
                                                               double k) {
  std::unordered_map<int64_t, double> score;
  std::unordered_map<int64_t, size_t> first_seen;
  size_t order = 0;
  for (const auto& list : lists) {
    for (size_t rank = 0; rank < list.size(); ++rank) {
      score[list[rank]] += 1.0 / (k + static_cast<double>(rank + 1));
      first_seen.emplace(list[rank], order++);
    }
  }
  std::vector<std::pair<int64_t, double>> out(score.begin(), score.end());
  std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return first_seen[a.first] < first_seen[b.first];
  });
  return out;
}

std::vector<size_t> mmr_select(const std::vector<double>& relevance,
                               const std::vector<std::vector<float>>& vectors, size_t k, double lambda) {
  std::vector<size_t> picked;
  std::vector<bool> used(relevance.size(), false);
  double lo = relevance.empty() ? 0 : *std::min_element(relevance.begin(), relevance.end());
  double hi = relevance.empty() ? 0 : *std::max_element(relevance.begin(), relevance.end());
  // Relevance on a 0..1 scale: relative to the best for non-negative scores (BM25, RRF),
  // min-max otherwise (cosine may be negative).
  auto norm = [&](double r) {
    if (lo >= 0) return hi > 0 ? r / hi : 1.0;
    return hi > lo ? (r - lo) / (hi - lo) : 1.0;
  };
  while (picked.size() < std::min(k, relevance.size())) {
    size_t best = SIZE_MAX;
    double best_value = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < relevance.size(); ++i) {
      if (used[i]) continue;
      double max_sim = 0;
      for (size_t j : picked) max_sim = std::max(max_sim, static_cast<double>(dot(vectors[i], vectors[j])));
      double value = lambda * norm(relevance[i]) - (1 - lambda) * max_sim;
      if (value > best_value) {
        best_value = value;
        best = i;
      }
    }
    used[best] = true;
    picked.push_back(best);
  }
  return picked;
}

Result<std::vector<SearchHit>> search(KnowledgeBase& kb, const SearchQuery& query, Embedder* embedder) {
  const bool has_model = !kb.settings().embed_model.empty();
  SearchMode mode = query.mode.value_or(has_model && embedder ? SearchMode::kHybrid : SearchMode::kKeyword);
  if (mode != SearchMode::kKeyword) {
    if (!has_model)
      return Status::invalid_argument(
          fmt::format("{} search needs an embedding model, and this knowledge base has "
                      "none (create it with --embed-model, or use --mode keyword)",
                      search_mode_name(mode)));
    if (!embedder) return Status::invalid_argument("vector search needs the base's embedding model loaded");
    if (embedder->dim() != kb.embed_dim())
      return Status::invalid_argument("the embedding model does not match the base");
  }
  const int64_t k = std::clamp<int64_t>(query.k, 1, 1000);
  Filter filter;
  filter.glob = query.path_glob;
  if (query.modified_after) filter.after_ns = *query.modified_after * 1000000000;
  if (query.modified_before) filter.before_ns = *query.modified_before * 1000000000;
  const int64_t n_candidates = std::max<int64_t>(query.mmr ? k * 4 : k * 2, 40);

  // Everything that may take long or write (the query vector, an index rebuild) happens
  // before the read snapshot opens.
  std::vector<float> qvec;
  VectorIndex* index = nullptr;
  // Counting chunks uses the small doc_id index; counting current vectors would read
  // every blob. The index holds only current vectors anyway.
  SOV_ASSIGN_OR_RETURN(int64_t n_chunks, kb.db().query_int("SELECT count(*) FROM chunks"));
  if (mode != SearchMode::kKeyword) {
    SOV_ASSIGN_OR_RETURN(auto vecs, embedder->embed({query.text}));
    if (vecs.size() != 1) return Status::internal("the embedding model returned no vector");
    qvec = std::move(vecs[0]);
    if (n_chunks >= query.exact_below && !filter.active()) {
      SOV_ASSIGN_OR_RETURN(index, kb.vector_index(/*persist=*/true));
    }
  }

  SOV_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(kb.db(), false));
  SOV_ASSIGN_OR_RETURN(uint64_t gen, kb.embed_gen());
  Ranked keyword, vector;
  if (mode != SearchMode::kVector) {
    SOV_ASSIGN_OR_RETURN(auto words, prune_common_words(kb.db(), query_words(query.text), n_chunks,
                                                        query.max_keyword_postings));
    SOV_ASSIGN_OR_RETURN(keyword, keyword_ranked(kb, match_expression(words), filter, n_candidates));
  }
  if (mode != SearchMode::kKeyword) {
    SOV_ASSIGN_OR_RETURN(vector, vector_ranked(kb, qvec, filter, n_candidates, gen, index));
  }
  Ranked fused;
  if (mode == SearchMode::kKeyword) {
    fused = std::move(keyword);
  } else if (mode == SearchMode::kVector) {
    fused = std::move(vector);
  } else {
    std::vector<std::vector<int64_t>> lists(2);
    for (const auto& [id, s] : keyword) lists[0].push_back(id);
    for (const auto& [id, s] : vector) lists[1].push_back(id);
    fused = reciprocal_rank_fusion(lists, kRrfK);
  }

  // Details of the candidates we may return.
  const size_t keep = query.mmr ? std::min<size_t>(fused.size(), static_cast<size_t>(n_candidates))
                                : std::min<size_t>(fused.size(), static_cast<size_t>(k));
  SOV_ASSIGN_OR_RETURN(
      Stmt st, kb.db().prepare("SELECT d.path, c.line_first, c.line_last, c.heading, c.text, d.mtime_ns, "
                               "c.embedding, c.embed_gen FROM chunks c JOIN documents d ON d.id = c.doc_id "
                               "WHERE c.id = ?"));
  std::vector<SearchHit> hits;
  std::vector<std::vector<float>> vectors;
  for (size_t i = 0; i < keep; ++i) {
    st.bind(1, fused[i].first);
    SOV_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) {
      SearchHit h;
      h.chunk_id = fused[i].first;
      h.path = st.text(0);
      h.line_first = static_cast<int32_t>(st.int64(1));
      h.line_last = static_cast<int32_t>(st.int64(2));
      h.heading = st.text(3);
      h.text = st.text(4);
      h.mtime_ns = st.int64(5);
      h.score = fused[i].second;
      if (query.mmr) {
        std::span<const uint8_t> b = st.blob(6);
        bool current = !st.is_null(6) && static_cast<uint64_t>(st.int64(7)) == gen &&
                       b.size() == static_cast<size_t>(kb.embed_dim()) * sizeof(float) && kb.embed_dim() > 0;
        vectors.push_back(current ? blob_to_vector(b) : word_vector(h.text));
      }
      hits.push_back(std::move(h));
    }
    st.reset();
  }
  SOV_RETURN_IF_ERROR(tx.commit());

  if (query.mmr && !hits.empty()) {
    // Mixed vector kinds (some chunks not embedded yet) make similarities meaningless: use
    // word vectors for all then.
    bool uniform = std::all_of(vectors.begin(), vectors.end(),
                               [&](const auto& v) { return v.size() == vectors[0].size(); });
    if (!uniform)
      for (size_t i = 0; i < hits.size(); ++i) vectors[i] = word_vector(hits[i].text);
    std::vector<double> rel;
    for (const SearchHit& h : hits) rel.push_back(h.score);
    std::vector<size_t> order = mmr_select(rel, vectors, static_cast<size_t>(k), query.mmr_lambda);
    std::vector<SearchHit> picked;
    for (size_t i : order) picked.push_back(std::move(hits[i]));
    return picked;
  }
  return hits;
}

}  // namespace sov::kb
