// Readers: from a file's bytes to the plain text the knowledge base indexes.
//
// Text is recognised by content, not only by extension: known binary signatures (images,
// archives, executables, GGUF, SQLite, ...), NUL bytes and invalid UTF-8 mark a file as
// binary; a PDF is recognised by its "%PDF-" header. The extension then picks the reader:
// Markdown, reStructuredText, source code, HTML (text only; scripts and styles dropped,
// entities decoded, headings kept as Markdown "#" lines), JSON and CSV as text, anything
// else as plain text. A file named .txt that holds HTML stays plain text (we trust content
// over names only to refuse binaries, never to run a different parser).
//
// Pure functions, thread-safe. Work is linear in the input size and the output is never
// larger than the input plus a small constant per line, except for PDF, whose streams
// expand: it is extracted in a child process under memory, time and size limits.
#pragma once

#include <string>
#include <string_view>

#include "base/confined.h"
#include "base/status.h"

namespace sov::kb {

enum class Format { kText, kMarkdown, kRst, kCode, kHtml, kPdf, kJson, kCsv };

const char* format_name(Format f);

struct Classification {
  bool indexable = false;
  Format format = Format::kText;
  bool latin1 = false;  // not UTF-8 but plain 8-bit text: decoded as ISO-8859-1
  std::string reason;   // why not indexable ("binary (PNG image)", "binary (NUL bytes)", ...)
};

// Looks at the name (for the extension) and the bytes.
Classification classify(std::string_view file_name, std::string_view bytes);

// HTML to text: tags removed, script/style/template/noscript bodies and comments dropped,
// block elements become line breaks, <h1>..<h6> become "#".."######" lines, character
// references decoded, runs of blank lines collapsed. Never fails.
std::string html_to_text(std::string_view html);

// Text of every page of a PDF (poppler), pages separated by a blank line. Encrypted or
// broken files fail with kCorrupt / kUnsupported. Poppler runs in a child process under
// `limits` (base/confined.h): a decompression bomb, a pathological file or a crash in poppler
// ends in an error (kResourceExhausted naming the limit, or kInternal), never in the caller.
inline constexpr ConfineLimits kPdfLimits{size_t{512} << 20, size_t{32} << 20, 60'000};
Result<std::string> pdf_to_text(std::string_view bytes, const ConfineLimits& limits = kPdfLimits);

// The same extraction in this process, without limits except on the text size: for the
// fuzzer (which needs poppler's coverage in-process) and for the child above.
Result<std::string> pdf_to_text_in_process(std::string_view bytes, size_t max_text_bytes);

// The text to chunk for a classified file (HTML stripped, PDF extracted, text as is with a
// UTF-8 BOM removed and CRLF normalised).
Result<std::string> extract_text(const Classification& c, std::string_view bytes);

}  // namespace sov::kb
