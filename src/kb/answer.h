// Answering: turns retrieved chunks into a grounded prompt with numbered sources, and the
// sources into the list printed after the answer.
//
// Sources are taken best first while they fit `token_budget` (counted with the generating
// model's tokenizer when given); a source that does not fit whole is skipped, unless it is
// the first, which is then cut to the budget. Two hits from the same file with touching or
// overlapping lines are merged into one source. The system message tells the model to
// answer only from the sources and to cite them as [1], [2].
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kb/chunk.h"
#include "kb/retrieve.h"

namespace sov::kb {

struct Source {
  int number = 0;  // 1-based, as cited
  std::string path;
  int32_t line_first = 0;
  int32_t line_last = 0;
  std::string heading;
  std::string text;
};

struct GroundedPrompt {
  std::string system;
  std::string user;
  std::vector<Source> sources;
};

GroundedPrompt build_grounded_prompt(std::string_view question, const std::vector<SearchHit>& hits,
                                     int32_t token_budget, const TokenCounter& count_tokens = {});

// "path:first-last" (or "path:line" for one line).
std::string source_location(const Source& s);

// One line per source: "[1] path:first-last".
std::string format_sources(const std::vector<Source>& sources);

}  // namespace sov::kb
