// Test-only: reads a decoder reference folder of the shared test data
// (reference/<stem>/: tokens.json, logits.f32, greedy.json, greedy_logits.f32, meta.json)
// and compares logits the way its README prescribes (max abs difference over the row's std).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sov::engine::test {

struct ReferenceData {
  std::string stem;
  std::vector<int32_t> prompt_ids;
  int32_t n_vocab = 0;
  std::vector<float> logits;  // [n_prompt][n_vocab]
  std::vector<int32_t> greedy_ids;
  std::vector<float> greedy_logits;  // [n_greedy][n_vocab]
  std::vector<float> margins;        // top1 - top2 per greedy step
  std::vector<int32_t> argmax;       // per prompt position
  std::string greedy_text;

  const float* logits_row(int i) const { return &logits[static_cast<size_t>(i) * n_vocab]; }
  const float* greedy_row(int i) const { return &greedy_logits[static_cast<size_t>(i) * n_vocab]; }
};

// Reads reference/<stem>; nullopt (with a message in *error) when something is missing.
std::optional<ReferenceData> load_reference(const std::string& testdata, const std::string& stem, std::string* error);
// Every decoder reference folder (those with logits.f32), sorted.
std::vector<std::string> decoder_reference_stems(const std::string& testdata);

// max_v |mine[v] - ref[v]| / std_v(ref)
double relative_error(const float* mine, const float* ref, int n);
int argmax(const float* x, int n);

// The README's suggested limit of relative error for a model stem.
double tolerance_for(const std::string& stem);
// True when the stem's weights are quantized (argmax may differ at a few positions).
bool is_quantized(const std::string& stem);

}  // namespace sov::engine::test
