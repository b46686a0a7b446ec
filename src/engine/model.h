// A loaded decoder model: hyper-parameters and weights bound from a GGUF file.
//
// Model::load validates everything up front (architecture known, every tensor present with
// the right shape and a supported type) so that a forward pass never meets a bad weight.
// The model shares ownership of the gguf::File, whose memory map holds the weights.
//
// On CPUs with the packed kernels (AVX-512 VNNI), the matrices of the packed types (Q4_0,
// Q8_0, Q4_K, Q6_K; float formats are read in place) are also copied once into the 16-row interleaved layout
// of kernels/packed.h, which the forward pass then reads (logged at info level; packed_bytes() reports the
// extra memory). When the model was loaded from a path, the mapped pages of the packed originals are then
// released (MADV_DONTNEED: they stay in the page cache, and the row-major paths fault them back in if ever
// used), so the resident size stays about one copy of the weights.
//
// Immutable after load; any number of Contexts may use one Model concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/hparams.h"
#include "engine/weights.h"
#include "gguf/file.h"
#include "kernels/packed.h"

namespace sov::engine {

class Model {
 public:
  static Result<std::shared_ptr<const Model>> load(std::shared_ptr<const gguf::File> file);
  // Opens and loads a GGUF file; errors are prefixed with the path.
  static Result<std::shared_ptr<const Model>> load(const std::string& path);

  const HParams& hparams() const { return hparams_; }
  const ModelWeights& weights() const { return weights_; }
  const gguf::File& file() const { return *file_; }
  std::shared_ptr<const gguf::File> file_ptr() const { return file_; }
  // Bytes of the packed weight copies (0 when nothing was packed).
  size_t packed_bytes() const { return packed_bytes_; }

 private:
  Model() = default;
  // file_backed: the weights are a mapping of a file, whose pages may be dropped.
  static Result<std::shared_ptr<Model>> load_impl(std::shared_ptr<const gguf::File> file, bool file_backed);
  // Packs every packable matrix (see the comment at the top); with release_originals, drops
  // each original's resident pages right after packing it, so the peak stays near one copy.
  Status pack_weights(bool release_originals);
  std::vector<Matrix*> matrices();

  kernels::PackedBuffer packed_;  // every packed matrix, one after another
  size_t packed_bytes_ = 0;
  std::shared_ptr<const gguf::File> file_;
  HParams hparams_;
  ModelWeights weights_;
};

}  // namespace sov::engine
