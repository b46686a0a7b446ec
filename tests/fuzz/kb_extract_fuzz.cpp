// libFuzzer target: knowledge-base readers on hostile documents. The first byte picks the
// file name (so every reader runs: Markdown, reStructuredText, code, HTML, PDF, JSON, CSV,
// text); the rest is the file. classify -> extract_text -> chunk_text must never crash, and
// the documented bounds must hold: extracted text of non-PDF input is at most the input plus
// a small constant per line, every chunk is valid UTF-8 and its line range is ordered.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "kb/chunk.h"
#include "kb/extract.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1u << 20)) return 0;
  static const char* const kNames[] = {"a.md",  "a.rst",  "a.cpp", "a.html",
                                       "a.pdf", "a.json", "a.csv", "a.txt"};
  const std::string_view name = kNames[data[0] % 8];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto c = sov::kb::classify(name, bytes);
  (void)sov::kb::html_to_text(bytes);
  if (!c.indexable) return 0;
  // PDFs in-process: production runs poppler in a child, where the fuzzer would see neither
  // its coverage nor its crashes.
  auto text = c.format == sov::kb::Format::kPdf
                  ? sov::kb::pdf_to_text_in_process(bytes, sov::kb::kPdfLimits.max_result_bytes)
                  : sov::kb::extract_text(c, bytes);
  if (!text.is_ok()) return 0;
  if (c.format != sov::kb::Format::kPdf) {
    size_t lines = 1;
    for (char ch : bytes) lines += ch == '\n' || ch == '>';
    // Latin-1 decoding may double each byte; entities/headings add a few bytes per line.
    if (text->size() > 2 * bytes.size() + 8 * lines + 64) __builtin_trap();
  }
  sov::kb::ChunkOptions opts;
  opts.max_tokens = 1 + (data[0] >> 3) * 8;
  opts.overlap_tokens = opts.max_tokens / 4;
  for (const auto& chunk : sov::kb::chunk_text(*text, c.format, opts)) {
    if (chunk.line_first < 1 || chunk.line_last < chunk.line_first) __builtin_trap();
    if (!sov::utf8::is_valid(chunk.text)) __builtin_trap();
  }
  return 0;
}
