// A loaded decoder model: hyper-parameters and weights bound from a GGUF file.
//
// Model::load validates everything up front (architecture known, every tensor present with
// the right shape and a supported type) so that a forward pass never meets a bad weight.
// The model shares ownership of the gguf::File, whose memory map holds the weights.
// Immutable after load; any number of Contexts may use one Model concurrently.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "engine/hparams.h"
#include "engine/weights.h"
#include "gguf/file.h"

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

 private:
  Model() = default;
  std::shared_ptr<const gguf::File> file_;
  HParams hparams_;
  ModelWeights weights_;
};

}  // namespace sov::engine
