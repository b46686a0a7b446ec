// Synthetic encoder models: GGUF files of architecture bert or nomic-bert with random
// weights and realistic metadata, for tests (shapes and features the shared test data does
// not cover: GQA, causal attention, quantized weights) and for benchmarks (BGE-small- or
// nomic-embed-shaped models). Weights follow the test data's conventions: linear weights
// N(0, 1/fan_in), norm weights 1 + N(0, 0.1²), biases and norm biases N(0, 0.1²), embedding
// tables N(0, 1) and type/position tables N(0, 0.5²). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/encoder/encoder_model.h"
#include "gguf/file.h"
#include "gguf/types.h"

namespace sov::engine {

struct SyntheticEncoderSpec {
  std::string arch = "bert";  // or "nomic-bert"
  int32_t n_vocab = 30522;
  int32_t n_embd = 128;
  int32_t n_layer = 2;
  int32_t n_head = 4;
  int32_t n_head_kv = 0;  // 0: n_head
  int32_t n_ff = 512;
  int32_t n_ctx = 512;
  gguf::TensorType matrix_type = gguf::TensorType::kF32;  // of the layer matrices
  Pooling pooling = Pooling::kMean;
  bool causal = false;
  uint64_t seed = 1;
  // When set, its tokenizer.* keys are copied (the vocab must have n_vocab tokens), so the
  // result loads as an EmbeddingModel; otherwise only EncoderModel can load it.
  const gguf::File* vocab_from = nullptr;
};

// The GGUF file's bytes.
Result<std::vector<uint8_t>> make_synthetic_encoder(const SyntheticEncoderSpec& spec);

}  // namespace sov::engine
