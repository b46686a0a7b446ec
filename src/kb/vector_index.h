// The approximate nearest-neighbour index over chunk vectors (hnswlib HNSW, inner product
// on L2-normalised vectors, so the score is the cosine similarity), plus exact search.
//
// The index is derived data: the knowledge base's SQLite file is the source of truth and
// the index file is rebuilt from it whenever it is missing, damaged or out of step. On disk
// it is two files: the hnswlib graph (`vectors.hnsw`) and a small JSON header
// (`vectors.json`) holding the dimension, the SQLite vector generation it reflects and a
// checksum of the graph file; load() verifies both before hnswlib reads anything, so a torn
// or foreign file is rebuilt instead of trusted. save() writes temporaries and renames them.
//
// Thread-safety: search() may run concurrently with other searches; add()/remove()/save()
// take an exclusive lock.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
template <typename T>
class SpaceInterface;
}  // namespace hnswlib

namespace sov::kb {

struct VectorHit {
  int64_t id;
  float score;  // inner product (cosine for normalised vectors), higher is closer
};

class VectorIndex {
 public:
  explicit VectorIndex(int32_t dim, size_t initial_capacity = 1024);
  ~VectorIndex();

  int32_t dim() const { return dim_; }
  size_t size() const;  // live (not deleted) vectors

  // Adds or replaces the vector of `id`.
  void add(int64_t id, std::span<const float> v);
  // Adds many new ids ([ids.size()][dim] in `vectors`) with `threads` threads (hnswlib's
  // insertion is thread-safe for distinct new labels): how a rebuild stays fast.
  void add_batch(std::span<const int64_t> ids, std::span<const float> vectors, int threads);
  void remove(int64_t id);
  // Best `k` by inner product; `ef` is the search breadth (>= k).
  std::vector<VectorHit> search(std::span<const float> q, size_t k, size_t ef = 0) const;

  // The generation of the SQLite vectors this index reflects.
  uint64_t generation() const { return generation_; }
  void set_generation(uint64_t g) { generation_ = g; }

  Status save(const std::string& dir) const;
  // Fails (kNotFound / kCorrupt) unless the files exist, match `dim` and verify.
  static Result<std::unique_ptr<VectorIndex>> load(const std::string& dir, int32_t dim);

 private:
  void reserve_locked(size_t n);

  int32_t dim_;
  uint64_t generation_ = 0;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw_;
  mutable std::shared_mutex mutex_;
};

// Exact top-k by inner product over `count` vectors laid out contiguously ([count][dim]).
std::vector<VectorHit> exact_search(std::span<const float> q, std::span<const float> vectors,
                                    std::span<const int64_t> ids, size_t k);

// Dot product of the common length (the kernels' run-time dispatched F32 dot).
float dot(std::span<const float> a, std::span<const float> b);

}  // namespace sov::kb
