// Chunking: splits a document's text into overlapping pieces that fit the embedding model.
//
// Blocks first: paragraphs (split at blank lines; a fenced code block in Markdown is one
// block), each tagged with its heading path ("Install > Linux"; Markdown ATX and setext
// headings, reStructuredText underlined titles). Source code splits at blank lines and,
// inside an over-long block, preferably before a line that starts at column 0 (a top-level
// definition). Blocks are packed greedily up to `max_tokens`; a chunk never spans two
// headings; the next chunk repeats the last lines of the previous one up to
// `overlap_tokens`. An over-long line is cut at UTF-8 boundaries.
//
// Token counts come from `count_tokens` (the embedding model's tokenizer) or, without a
// model, from estimate_tokens(). Pure functions, thread-safe when count_tokens is.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kb/extract.h"

namespace sov::kb {

struct ChunkOptions {
  int32_t max_tokens = 256;
  int32_t overlap_tokens = 32;
};

using TokenCounter = std::function<int32_t(std::string_view)>;

struct Chunk {
  std::string text;
  int32_t line_first = 1;  // 1-based, inclusive
  int32_t line_last = 1;
  std::string heading;  // "Title > Section", "" when none
};

// A cheap token estimate: about one token per word piece of up to 4 bytes, plus one per
// punctuation character; tracks BERT-style WordPiece counts within a factor of ~1.3.
int32_t estimate_tokens(std::string_view text);

std::vector<Chunk> chunk_text(std::string_view text, Format format, const ChunkOptions& options,
                              const TokenCounter& count_tokens = {});

}  // namespace sov::kb
