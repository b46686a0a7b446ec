#include "engine/reference_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace sov::engine::test {
namespace fs = std::filesystem;

namespace {
bool read_f32(const std::string& path, std::vector<float>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  in.seekg(0, std::ios::end);
  size_t size = static_cast<size_t>(in.tellg());
  in.seekg(0);
  out->resize(size / 4);
  in.read(reinterpret_cast<char*>(out->data()), static_cast<std::streamsize>(out->size() * 4));
  return static_cast<bool>(in);
}

bool read_json(const std::string& path, nlohmann::json* out) {
  std::ifstream in(path);
  if (!in) return false;
  *out = nlohmann::json::parse(in, nullptr, false);
  return !out->is_discarded();
}
}  // namespace

std::optional<ReferenceData> load_reference(const std::string& testdata, const std::string& stem, std::string* error) {
  const std::string dir = testdata + "/reference/" + stem;
  ReferenceData r;
  r.stem = stem;
  nlohmann::json tokens, greedy, meta;
  if (!read_json(dir + "/tokens.json", &tokens) || !read_json(dir + "/greedy.json", &greedy) ||
      !read_json(dir + "/meta.json", &meta) || !read_f32(dir + "/logits.f32", &r.logits) ||
      !read_f32(dir + "/greedy_logits.f32", &r.greedy_logits)) {
    *error = "cannot read the reference files in " + dir;
    return std::nullopt;
  }
  r.prompt_ids = tokens["ids"].get<std::vector<int32_t>>();
  r.n_vocab = meta["n_vocab"].get<int32_t>();
  r.greedy_ids = greedy["ids"].get<std::vector<int32_t>>();
  r.margins = greedy["top1_top2_margin"].get<std::vector<float>>();
  r.argmax = meta["argmax"].get<std::vector<int32_t>>();
  r.greedy_text = greedy["text"].get<std::string>();
  if (r.logits.size() != r.prompt_ids.size() * r.n_vocab ||
      r.greedy_logits.size() != r.greedy_ids.size() * r.n_vocab) {
    *error = "reference sizes do not match in " + dir;
    return std::nullopt;
  }
  return r;
}

std::vector<std::string> decoder_reference_stems(const std::string& testdata) {
  std::vector<std::string> stems;
  for (const auto& e : fs::directory_iterator(testdata + "/reference")) {
    if (fs::exists(e.path() / "logits.f32")) stems.push_back(e.path().filename().string());
  }
  std::sort(stems.begin(), stems.end());
  return stems;
}

double relative_error(const float* mine, const float* ref, int n) {
  double mean = 0;
  for (int i = 0; i < n; ++i) mean += ref[i];
  mean /= n;
  double var = 0, max_diff = 0;
  for (int i = 0; i < n; ++i) {
    var += (ref[i] - mean) * (ref[i] - mean);
    max_diff = std::max(max_diff, std::abs(static_cast<double>(mine[i]) - ref[i]));
  }
  return max_diff / std::sqrt(var / n);
}

int argmax(const float* x, int n) { return static_cast<int>(std::max_element(x, x + n) - x); }

bool is_quantized(const std::string& stem) {
  return stem.find("-Q") != std::string::npos || stem.find(".Q") != std::string::npos;
}

double tolerance_for(const std::string& stem) {
  const bool gemma = stem.find("gemma2") != std::string::npos;
  if (is_quantized(stem)) return gemma ? 0.3 : 0.15;
  if (stem.find("BF16") != std::string::npos) return 5e-2;
  if (stem.find("F16") != std::string::npos) return 2e-2;
  return gemma ? 1e-2 : 1e-4;  // F32
}

}  // namespace sov::engine::test
