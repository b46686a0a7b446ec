// Tokenizer throughput: generates a few MB of mixed text (English prose, code, numbers,
// Unicode) and prints MB/s of encode for an SPM, two BPE and a WordPiece vocabulary, plus
// decode. Also times 1 MB runs of single characters, the worst cases for each stage.
// Usage: SOV_TESTDATA=../shared/testdata tokenizer_bench [MB]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "gguf/file.h"
#include "tokenizer/tokenizer.h"

using sov::tokenizer::Tokenizer;

namespace {

std::string mixed_text(size_t bytes) {
  const std::vector<std::string> prose = {
      "The quick brown fox jumps over the lazy dog. ",
      "It was the best of times, it was the worst of times. ",
      "Tokenizers split text into pieces that a model can read. ",
      "I'll be there at 10:30, won't you? ",
      "\"Quoted,\" she said -- and then: (parenthetical) remarks; semicolons! ",
  };
  const std::vector<std::string> code = {
      "for (int i = 0; i < n; ++i) {\n    sum += a[i] * b[i];\n}\n",
      "def f(x):\n    return x ** 2 + 3 * x - 7\n",
      "    if (ptr == nullptr) return Status::invalid_argument(\"null\");\n",
      "SELECT id, name FROM users WHERE age > 21;\n",
  };
  const std::vector<std::string> numbers = {"3.14159 ", "2718281828 ", "1,234,567.89 ", "0x7fff_ffff ",
                                            "42 "};
  const std::vector<std::string> unicode = {
      "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xBC\xD0\xB8\xD1\x80. ",  // Привет мир.
      "\xE6\x88\x91\xE6\x83\xB3\xE5\x9C\xA8\xE5\xB7\xA5\xE4\xBD\x9C\xE3\x80\x82",     // 我想在工作。
      "Cr\xC3\xA8me br\xC3\xBBl\xC3\xA9e, na\xC3\xAFve caf\xC3\xA9. ",
      "\xF0\x9F\x9A\x80\xF0\x9F\xA6\x99 \xE2\x9C\x85 ",
      "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4 \xD8\xA7\xD9\x84\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A\xD8\xA9 ",
  };
  std::mt19937 rng(42);
  std::string text;
  text.reserve(bytes + 256);
  while (text.size() < bytes) {
    unsigned k = rng() % 10;
    const auto& pool = k < 5 ? prose : k < 7 ? code : k < 8 ? numbers : unicode;
    text += pool[rng() % pool.size()];
  }
  text.resize(bytes);
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
  return text;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const char* dir = std::getenv("SOV_TESTDATA");
  std::string root = dir ? dir : "../shared/testdata";
  double mb = argc > 1 ? std::atof(argv[1]) : 4.0;
  const std::string text = mixed_text(static_cast<size_t>(mb * 1024 * 1024));

  struct Entry {
    const char* label;
    const char* file;
  };
  const Entry entries[] = {
      {"SPM (llama-spm)", "ggml-vocab-llama-spm.gguf"},
      {"BPE (gpt-2)", "ggml-vocab-gpt-2.gguf"},
      {"BPE (deepseek-llm)", "ggml-vocab-deepseek-llm.gguf"},
      {"BPE (mpt)", "ggml-vocab-mpt.gguf"},
      {"SPM (phi-3)", "ggml-vocab-phi-3.gguf"},
      {"WordPiece (bert-bge)", "ggml-vocab-bert-bge.gguf"},
  };
  std::printf("mixed text: %.2f MB\n\n", text.size() / 1048576.0);
  std::printf("%-22s %12s %12s %12s %14s\n", "vocabulary", "encode MB/s", "tokens", "bytes/token",
              "decode MB/s");
  for (const Entry& e : entries) {
    auto file = sov::gguf::File::open(root + "/tokenizer/" + e.file);
    if (!file.is_ok()) {
      std::printf("%-22s %s\n", e.label, file.status().to_string().c_str());
      continue;
    }
    auto tok = Tokenizer::from_gguf(*file);
    if (!tok.is_ok()) {
      std::printf("%-22s %s\n", e.label, tok.status().to_string().c_str());
      continue;
    }
    auto t0 = std::chrono::steady_clock::now();
    auto ids = (*tok)->encode(text, false, false);
    double enc = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    std::string back = (*tok)->decode(ids);
    double dec = seconds_since(t0);
    std::printf("%-22s %12.2f %12zu %12.2f %14.1f\n", e.label, text.size() / 1048576.0 / enc, ids.size(),
                double(text.size()) / ids.size(), back.size() / 1048576.0 / dec);
  }

  std::printf("\n1 MB of one character, encode seconds:\n%-22s", "vocabulary");
  const std::vector<std::pair<const char*, std::string>> units = {
      {"' '", " "},           {"'\\n'", "\n"}, {"'a'", "a"},
      {"'1'", "1"},           {"'!'", "!"},    {"emoji", "\xF0\x9F\xA6\x99"},
      {"CJK", "\xE4\xB8\xAD"}};
  for (const auto& u : units) std::printf(" %7s", u.first);
  std::printf("\n");
  for (const Entry& e : entries) {
    auto file = sov::gguf::File::open(root + "/tokenizer/" + e.file);
    if (!file.is_ok()) continue;
    auto tok = Tokenizer::from_gguf(*file);
    if (!tok.is_ok()) continue;
    std::printf("%-22s", e.label);
    for (const auto& u : units) {
      std::string run;
      while (run.size() < (1u << 20)) run += u.second;
      auto t0 = std::chrono::steady_clock::now();
      auto ids = (*tok)->encode(run, false, false);
      std::printf(" %7.3f", seconds_since(t0));
      std::fflush(stdout);
    }
    std::printf("\n");
  }
  return 0;
}
