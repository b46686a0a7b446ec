#include "kb/vector_index.h"

// hnswlib's hand-vectorised paths prefetch one entry past the end of a full link list (an
// out-of-bounds read AddressSanitizer reports in searchBaseLayer); they are compiled out and
// distances use the kernels' dispatched dot product instead (DotSpace below).
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>
#include <sstream>
#include <thread>

#include "kernels/type_kernels.h"

namespace sov::kb {
namespace {

// M 16 and ef_construction 200: recall@10 >= 0.95 at ef 256 on clustered 384-dim vectors
// (as real embeddings are) up to 100k chunks, with half the build time and links of M 32
// (bench/kb, docs/benchmarks.md; uniform random vectors, the worst case, do worse).
constexpr size_t kM = 16;
constexpr size_t kEfConstruction = 200;
constexpr const char* kGraphFile = "vectors.hnsw";
constexpr const char* kHeaderFile = "vectors.json";

// A fast 64-bit checksum (word-wise multiply-xorshift), enough to detect torn or swapped
// files; not cryptographic.
uint64_t checksum_file(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  uint64_t h = 0x9E3779B97F4A7C15ull;
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    size_t n = static_cast<size_t>(in.gcount());
    total += n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, buf.data() + i, 8);
      h = (h ^ w) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
    }
    for (; i < n; ++i) h = (h ^ static_cast<unsigned char>(buf[i])) * 0x100000001B3ull;
  }
  return h ^ total;
}

kernels::VecDotFn f32_dot() {
  static const kernels::VecDotFn fn = kernels::type_kernels(gguf::TensorType::kF32)->vec_dot;
  return fn;
}

// Inner-product distance (1 - a.b, as hnswlib's InnerProductSpace) over the dispatched dot.
class DotSpace : public hnswlib::SpaceInterface<float> {
 public:
  explicit DotSpace(size_t dim) : dim_(dim) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return &distance; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  static float distance(const void* a, const void* b, const void* dim) {
    return 1.0f - f32_dot()(static_cast<int64_t>(*static_cast<const size_t*>(dim)), a, b);
  }
  size_t dim_;
};

}  // namespace

float dot(std::span<const float> a, std::span<const float> b) {
  const int64_t n = static_cast<int64_t>(std::min(a.size(), b.size()));
  return n == 0 ? 0.0f : f32_dot()(n, a.data(), b.data());
}

VectorIndex::VectorIndex(int32_t dim, size_t initial_capacity)
    : dim_(dim), space_(std::make_unique<DotSpace>(static_cast<size_t>(dim))) {
  hnsw_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(
      space_.get(), std::max<size_t>(initial_capacity, 16), kM, kEfConstruction, 42);
}

VectorIndex::~VectorIndex() = default;

size_t VectorIndex::size() const {
  std::shared_lock lock(mutex_);
  return hnsw_->cur_element_count - hnsw_->num_deleted_;
}

void VectorIndex::reserve_locked(size_t n) {
  if (n > hnsw_->max_elements_) hnsw_->resizeIndex(std::max(n, hnsw_->max_elements_ * 2));
}

void VectorIndex::add(int64_t id, std::span<const float> v) {
  if (static_cast<int32_t>(v.size()) != dim_) return;
  std::unique_lock lock(mutex_);
  reserve_locked(hnsw_->cur_element_count + 1);
  hnsw_->addPoint(v.data(), static_cast<hnswlib::labeltype>(id));
}

void VectorIndex::add_batch(std::span<const int64_t> ids, std::span<const float> vectors, int threads) {
  const size_t dim = static_cast<size_t>(dim_);
  if (ids.empty() || vectors.size() != ids.size() * dim) return;
  std::unique_lock lock(mutex_);
  reserve_locked(hnsw_->cur_element_count + ids.size());
  // The first point alone (it may become the entry point), then the rest in parallel.
  hnsw_->addPoint(vectors.data(), static_cast<hnswlib::labeltype>(ids[0]));
  std::atomic<size_t> next{1};
  auto work = [&] {
    for (size_t i = next++; i < ids.size(); i = next++)
      hnsw_->addPoint(vectors.data() + i * dim, static_cast<hnswlib::labeltype>(ids[i]));
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

void VectorIndex::remove(int64_t id) {
  std::unique_lock lock(mutex_);
  auto it = hnsw_->label_lookup_.find(static_cast<hnswlib::labeltype>(id));
  if (it == hnsw_->label_lookup_.end() || hnsw_->isMarkedDeleted(it->second)) return;
  hnsw_->markDelete(static_cast<hnswlib::labeltype>(id));
}

std::vector<VectorHit> VectorIndex::search(std::span<const float> q, size_t k, size_t ef) const {
  std::vector<VectorHit> out;
  if (static_cast<int32_t>(q.size()) != dim_ || k == 0) return out;
  std::shared_lock lock(mutex_);
  if (hnsw_->cur_element_count == hnsw_->num_deleted_) return out;
  // ef is a member of the index; searches under a shared lock all want the same value, and
  // hnswlib reads it once per search, so concurrent writes of equal values are benign only
  // if we avoid them: pass the breadth through the k argument instead and trim.
  size_t breadth = std::max(k, ef ? ef : size_t{256});
  auto pq = hnsw_->searchKnn(q.data(), breadth);
  out.reserve(pq.size());
  while (!pq.empty()) {
    out.push_back({static_cast<int64_t>(pq.top().second), 1.0f - pq.top().first});
    pq.pop();
  }
  std::reverse(out.begin(), out.end());
  if (out.size() > k) out.resize(k);
  return out;
}

Status VectorIndex::save(const std::string& dir) const {
  std::shared_lock lock(mutex_);
  const std::string graph = dir + "/" + kGraphFile, header = dir + "/" + kHeaderFile;
  const std::string graph_tmp = graph + ".tmp", header_tmp = header + ".tmp";
  try {
    const_cast<hnswlib::HierarchicalNSW<float>&>(*hnsw_).saveIndex(graph_tmp);
  } catch (const std::exception& e) {
    return Status::io_error(std::string("saving the vector index: ") + e.what());
  }
  bool ok = false;
  uint64_t sum = checksum_file(graph_tmp, &ok);
  if (!ok) return Status::io_error("saving the vector index: cannot read " + graph_tmp);
  nlohmann::json h = {{"format", 1}, {"dim", dim_}, {"generation", generation_}, {"checksum", sum}};
  {
    std::ofstream out(header_tmp, std::ios::trunc);
    out << h.dump() << "\n";
    if (!out) return Status::io_error("cannot write " + header_tmp);
  }
  std::error_code ec;
  std::filesystem::rename(graph_tmp, graph, ec);
  if (!ec) std::filesystem::rename(header_tmp, header, ec);
  if (ec) return Status::io_error("saving the vector index: " + ec.message());
  return Status::ok();
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::load(const std::string& dir, int32_t dim) {
  const std::string graph = dir + "/" + kGraphFile, header = dir + "/" + kHeaderFile;
  std::ifstream hin(header);
  if (!hin) return Status::not_found("no vector index");
  std::stringstream ss;
  ss << hin.rdbuf();
  nlohmann::json h = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (!h.is_object() || !h.contains("dim") || !h.contains("generation") || !h.contains("checksum") ||
      !h["dim"].is_number_integer() || !h["generation"].is_number_unsigned() ||
      !h["checksum"].is_number_unsigned())
    return Status::corrupt("vector index header is damaged");
  if (h["dim"].get<int64_t>() != dim) return Status::corrupt("vector index has another dimension");
  bool ok = false;
  uint64_t sum = checksum_file(graph, &ok);
  if (!ok) return Status::not_found("no vector index graph");
  if (sum != h["checksum"].get<uint64_t>()) return Status::corrupt("vector index checksum mismatch");
  auto index = std::make_unique<VectorIndex>(dim, 16);
  try {
    index->hnsw_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(index->space_.get(), graph);
  } catch (const std::exception& e) {
    return Status::corrupt(std::string("vector index: ") + e.what());
  }
  if (index->hnsw_->data_size_ != static_cast<size_t>(dim) * sizeof(float))
    return Status::corrupt("vector index has another dimension");
  // hnswlib 0.6.2's loading constructor leaves the deleted count uninitialised before
  // adding to it: count again.
  index->hnsw_->num_deleted_ = 0;
  for (size_t i = 0; i < index->hnsw_->cur_element_count; ++i)
    if (index->hnsw_->isMarkedDeleted(static_cast<hnswlib::tableint>(i))) ++index->hnsw_->num_deleted_;
  index->generation_ = h["generation"].get<uint64_t>();
  return index;
}

std::vector<VectorHit> exact_search(std::span<const float> q, std::span<const float> vectors,
                                    std::span<const int64_t> ids, size_t k) {
  const size_t dim = q.size();
  std::vector<VectorHit> all;
  if (dim == 0) return all;
  size_t n = std::min(ids.size(), vectors.size() / dim);
  all.reserve(n);
  for (size_t i = 0; i < n; ++i) all.push_back({ids[i], dot(q, vectors.subspan(i * dim, dim))});
  size_t kk = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<long>(kk), all.end(),
                    [](const VectorHit& a, const VectorHit& b) {
                      return a.score > b.score || (a.score == b.score && a.id < b.id);
                    });
  all.resize(kk);
  return all;
}

}  // namespace sov::kb
