#include "kb/answer.h"

#include <fmt/format.h>

#include <algorithm>

namespace sov::kb {

GroundedPrompt build_grounded_prompt(std::string_view question, const std::vector<SearchHit>& hits,
                                     int32_t token_budget, const TokenCounter& count_tokens) {
  auto count = [&](std::string_view s) { return count_tokens ? count_tokens(s) : estimate_tokens(s); };
  GroundedPrompt p;
  // Merge neighbouring hits of one file, keeping the order of the first.
  std::vector<Source> merged;
  for (const SearchHit& h : hits) {
    auto it = std::find_if(merged.begin(), merged.end(), [&](const Source& s) {
      return s.path == h.path && h.line_first <= s.line_last + 1 && h.line_last + 1 >= s.line_first;
    });
    if (it == merged.end()) {
      merged.push_back({0, h.path, h.line_first, h.line_last, h.heading, h.text});
      continue;
    }
    // Append only the lines the existing source lacks (overlapping chunks repeat lines).
    if (h.line_last > it->line_last) {
      int32_t skip = it->line_last - h.line_first + 1;
      std::string_view rest = h.text;
      for (int32_t i = 0; i < skip && !rest.empty(); ++i) {
        size_t nl = rest.find('\n');
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      }
      if (!rest.empty()) it->text += "\n" + std::string(rest);
      it->line_last = h.line_last;
    }
    if (h.line_first < it->line_first) {
      it->text = h.text + "\n" + it->text;
      it->line_first = h.line_first;
    }
  }
  int32_t used = 0;
  std::string context;
  for (Source& s : merged) {
    std::string block = fmt::format("[{}] {}{}\n{}\n\n", p.sources.size() + 1, source_location(s),
                                    s.heading.empty() ? "" : " (" + s.heading + ")", s.text);
    int32_t cost = count(block);
    if (used + cost > token_budget) {
      if (!p.sources.empty()) continue;
      // The best source alone is over the budget: keep its beginning.
      size_t bytes = block.size() * static_cast<size_t>(std::max(token_budget, 1)) /
                     static_cast<size_t>(std::max(cost, 1));
      while (bytes > 0 && bytes < block.size() && (static_cast<unsigned char>(block[bytes]) & 0xC0) == 0x80)
        --bytes;
      block = block.substr(0, bytes) + "\n\n";
      cost = token_budget;
    }
    used += cost;
    s.number = static_cast<int>(p.sources.size()) + 1;
    context += block;
    p.sources.push_back(s);
  }
  p.system =
      "You answer questions using only the numbered sources below, taken from the user's own files. "
      "Cite the sources you use with their numbers in square brackets, like [1] or [2][3]. "
      "If the sources do not contain the answer, say that you could not find it in the knowledge base.\n\n"
      "Sources:\n\n" +
      context;
  p.user = std::string(question);
  return p;
}

std::string source_location(const Source& s) {
  if (s.path.starts_with("text:") || s.line_first <= 0) return s.path;
  if (s.line_first == s.line_last) return fmt::format("{}:{}", s.path, s.line_first);
  return fmt::format("{}:{}-{}", s.path, s.line_first, s.line_last);
}

std::string format_sources(const std::vector<Source>& sources) {
  std::string out;
  for (const Source& s : sources) out += fmt::format("[{}] {}\n", s.number, source_location(s));
  return out;
}

}  // namespace sov::kb
