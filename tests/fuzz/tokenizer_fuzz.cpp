// libFuzzer target: every tokenizer (SPM, BPE, WordPiece) must take any byte string without
// crashing, give ids inside the vocabulary, and decode and stream-detokenize any id sequence
// to valid UTF-8, the stream adding up to decode.
//
// Vocabularies: $SOV_FUZZ_VOCAB (one GGUF path, or several separated by ':'), else the
// llama-spm, gpt-2, deepseek-llm and bert-bge vocabs from $SOV_TESTDATA/tokenizer. They are
// loaded once. The first input byte picks add_special / parse_special; the rest is the text,
// and is also read as a sequence of 16-bit token ids for the decoders.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/utf8.h"
#include "gguf/file.h"
#include "tokenizer/stream_detokenizer.h"
#include "tokenizer/tokenizer.h"

namespace {

using sov::tokenizer::StreamDetokenizer;
using sov::tokenizer::Tokenizer;

std::vector<std::unique_ptr<Tokenizer>> load_all() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("SOV_FUZZ_VOCAB")) {
    std::string_view list = env;
    while (!list.empty()) {
      size_t colon = list.find(':');
      paths.emplace_back(list.substr(0, colon));
      list = colon == std::string_view::npos ? std::string_view() : list.substr(colon + 1);
    }
  } else {
    const char* dir = std::getenv("SOV_TESTDATA");
    std::string root = dir ? dir : "../shared/testdata";
    for (const char* name : {"llama-spm", "gpt-2", "deepseek-llm", "bert-bge"}) {
      paths.push_back(root + "/tokenizer/ggml-vocab-" + name + ".gguf");
    }
  }
  std::vector<std::unique_ptr<Tokenizer>> out;
  for (const auto& p : paths) {
    auto file = sov::gguf::File::open(p);
    if (!file.is_ok()) continue;
    auto tok = Tokenizer::from_gguf(*file);
    if (tok.is_ok()) out.push_back(std::move(tok).value());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* tokenizers = new std::vector<std::unique_ptr<Tokenizer>>(load_all());
  if (size == 0) return 0;
  const bool add_special = data[0] & 1;
  const bool parse_special = data[0] & 2;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  for (const auto& tok : *tokenizers) {
    std::vector<int32_t> ids = tok->encode(text, add_special, parse_special);
    for (int32_t id : ids) {
      if (id < 0 || id >= tok->n_vocab()) __builtin_trap();
    }
    if (!sov::utf8::is_valid(tok->decode(ids))) __builtin_trap();

    // Arbitrary ids (byte tokens, specials, partial characters) through both decoders.
    std::vector<int32_t> raw;
    for (size_t i = 1; i + 1 < size; i += 2)
      raw.push_back((data[i] | (data[i + 1] << 8)) % (tok->n_vocab() + 2) - 1);
    const bool skip = data[0] & 4;
    StreamDetokenizer stream(*tok, skip);
    std::string streamed;
    for (int32_t id : raw) {
      std::string chunk = stream.push(id);
      if (!sov::utf8::is_valid(chunk)) __builtin_trap();
      streamed += chunk;
    }
    streamed += stream.flush();
    if (streamed != tok->decode(raw, skip)) __builtin_trap();
  }
  return 0;
}
