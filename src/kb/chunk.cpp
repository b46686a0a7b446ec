#include "kb/chunk.h"

#include <algorithm>

#include "base/utf8.h"

namespace sov::kb {
namespace {

struct Line {
  std::string_view text;
  int32_t number;  // 1-based
  int32_t tokens;
};

struct Block {
  size_t first, last;  // indices into lines, inclusive
  std::string heading;
  bool definition = false;  // code: starts at column 0 after a blank line
};

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t") == std::string_view::npos;
}

// "## Title ##" -> level 2, "Title".
int atx_heading(std::string_view line, std::string_view* title) {
  size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  size_t hashes = 0;
  while (i + hashes < line.size() && line[i + hashes] == '#') ++hashes;
  if (hashes == 0 || hashes > 6) return 0;
  size_t rest = i + hashes;
  if (rest < line.size() && line[rest] != ' ' && line[rest] != '\t') return 0;
  std::string_view t = rest < line.size() ? line.substr(rest) : std::string_view();
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '#')) t.remove_suffix(1);
  *title = t;
  return static_cast<int>(hashes);
}

// A line made of one repeated punctuation character (setext / rst underline).
char underline_char(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  if (line.size() < 3) return 0;
  char c = line[0];
  if (!std::ispunct(static_cast<unsigned char>(c))) return 0;
  for (char x : line)
    if (x != c) return 0;
  return c;
}

bool is_fence(std::string_view line) {
  size_t i = line.find_first_not_of(' ');
  if (i == std::string_view::npos || i > 3) return false;
  line.remove_prefix(i);
  return line.starts_with("```") || line.starts_with("~~~");
}

class HeadingStack {
 public:
  void set(int level, std::string_view title) {
    while (!stack_.empty() && stack_.back().first >= level) stack_.pop_back();
    stack_.emplace_back(level, std::string(title));
  }
  std::string path() const {
    std::string out;
    for (const auto& [level, title] : stack_) {
      if (!out.empty()) out += " > ";
      out += title;
    }
    return out;
  }

 private:
  std::vector<std::pair<int, std::string>> stack_;
};

std::vector<Block> make_blocks(const std::vector<Line>& lines, Format format) {
  std::vector<Block> blocks;
  HeadingStack headings;
  std::vector<char> rst_levels;  // rst: underline characters in order of first appearance
  std::string heading;
  bool in_fence = false;
  size_t start = SIZE_MAX;
  auto flush = [&](size_t end) {
    if (start != SIZE_MAX && end >= start) {
      Block b{start, end, heading, false};
      if (format == Format::kCode) {
        std::string_view t = lines[start].text;
        b.definition = !t.empty() && t[0] != ' ' && t[0] != '\t' && t[0] != '}' && t[0] != ')';
      }
      blocks.push_back(std::move(b));
    }
    start = SIZE_MAX;
  };
  const bool markdown = format == Format::kMarkdown || format == Format::kHtml;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view t = lines[i].text;
    if (markdown && is_fence(t)) {
      if (start == SIZE_MAX) start = i;
      in_fence = !in_fence;
      continue;
    }
    if (in_fence) continue;
    if (markdown || format == Format::kRst) {
      std::string_view title;
      int level = markdown ? atx_heading(t, &title) : 0;
      // Setext (Markdown) or underlined title (rst): "Title" followed by "=====".
      if (level == 0 && i + 1 < lines.size() && !is_blank(t) && !underline_char(t)) {
        char u = underline_char(lines[i + 1].text);
        bool ok = markdown ? (u == '=' || u == '-') : (u != 0 && lines[i + 1].text.size() >= t.size());
        if (ok) {
          if (markdown) {
            level = u == '=' ? 1 : 2;
          } else {
            auto it = std::find(rst_levels.begin(), rst_levels.end(), u);
            if (it == rst_levels.end()) it = rst_levels.insert(rst_levels.end(), u);
            level = static_cast<int>(it - rst_levels.begin()) + 1;
          }
          title = t;
          while (!title.empty() && (title.back() == ' ' || title.back() == '\t')) title.remove_suffix(1);
          if (start != SIZE_MAX) flush(i - 1);
          headings.set(level, title);
          heading = headings.path();
          start = i;  // the title and its underline open the new section
          ++i;
          continue;
        }
      }
      if (level > 0) {
        if (start != SIZE_MAX) flush(i - 1);
        headings.set(level, title);
        heading = headings.path();
        start = i;
        continue;
      }
    }
    if (is_blank(t)) {
      if (start != SIZE_MAX) flush(i - 1);
      continue;
    }
    if (start == SIZE_MAX) start = i;
  }
  if (start != SIZE_MAX) flush(lines.size() - 1);
  return blocks;
}

// Cuts s into pieces of at most `max_bytes`, at UTF-8 boundaries.
std::vector<std::string_view> cut_bytes(std::string_view s, size_t max_bytes) {
  std::vector<std::string_view> out;
  while (s.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    if (cut == 0) cut = max_bytes;
    // Prefer a space near the end.
    size_t space = s.rfind(' ', cut);
    if (space != std::string_view::npos && space > cut / 2) cut = space + 1;
    out.push_back(s.substr(0, cut));
    s.remove_prefix(cut);
  }
  if (!s.empty()) out.push_back(s);
  return out;
}

}  // namespace

int32_t estimate_tokens(std::string_view text) {
  int32_t n = 0;
  size_t run = 0;  // bytes of the current word
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      ++run;
      continue;
    }
    if (run) n += static_cast<int32_t>((run + 3) / 4), run = 0;
    if (std::ispunct(c)) ++n;
  }
  if (run) n += static_cast<int32_t>((run + 3) / 4);
  return n;
}

std::vector<Chunk> chunk_text(std::string_view text, Format format, const ChunkOptions& options,
                              const TokenCounter& count_tokens) {
  const int32_t max_tokens = std::max<int32_t>(8, options.max_tokens);
  const int32_t overlap = std::clamp<int32_t>(options.overlap_tokens, 0, max_tokens / 2);
  auto count = [&](std::string_view s) { return count_tokens ? count_tokens(s) : estimate_tokens(s); };

  // Lines, with lines over the budget cut into pieces that keep their line number.
  std::vector<Line> lines;
  {
    int32_t number = 0;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      ++number;
      std::string_view line = text.substr(pos, nl - pos);
      pos = nl + 1;
      // A token covers at least a byte, so only lines longer than the budget in bytes can
      // be over it.
      int32_t tokens = line.size() <= static_cast<size_t>(max_tokens) ? 0 : count(line);
      if (tokens <= max_tokens) {
        lines.push_back({line, number, 0});
        continue;
      }
      size_t piece = std::max<size_t>(
          16, line.size() * static_cast<size_t>(max_tokens) * 9 / (static_cast<size_t>(tokens) * 10));
      for (std::string_view p : cut_bytes(line, piece)) lines.push_back({p, number, 0});
    }
  }
  for (Line& l : lines) l.tokens = is_blank(l.text) ? 0 : count(l.text) + 1;

  std::vector<Block> blocks = make_blocks(lines, format);
  std::vector<Chunk> chunks;

  // Current chunk: a list of line indices (not necessarily contiguous: blank lines between
  // blocks are implied) plus the heading.
  std::vector<size_t> cur;
  int32_t cur_tokens = 0;
  std::string cur_heading;
  bool cur_has_new = false;  // holds lines beyond the overlap carried from the last chunk

  auto emit = [&](bool keep_overlap) {
    if (cur.empty() || !cur_has_new) {
      if (!keep_overlap) cur.clear(), cur_tokens = 0;
      return;
    }
    Chunk c;
    c.heading = cur_heading;
    c.line_first = lines[cur.front()].number;
    c.line_last = lines[cur.back()].number;
    for (size_t k = 0; k < cur.size(); ++k) {
      if (k) {
        // Same source line cut into pieces: join without a newline.
        if (lines[cur[k]].number == lines[cur[k - 1]].number) {
        } else if (lines[cur[k]].number > lines[cur[k - 1]].number + 1) {
          c.text += "\n\n";
        } else {
          c.text += '\n';
        }
      }
      c.text += lines[cur[k]].text;
    }
    chunks.push_back(std::move(c));
    std::vector<size_t> carry;
    int32_t carry_tokens = 0;
    if (keep_overlap && overlap > 0) {
      for (size_t k = cur.size(); k-- > 1;) {
        int32_t t = lines[cur[k]].tokens;
        if (carry_tokens + t > overlap) break;
        carry.insert(carry.begin(), cur[k]);
        carry_tokens += t;
      }
    }
    cur = std::move(carry);
    cur_tokens = carry_tokens;
    cur_has_new = false;
  };
  auto push_line = [&](size_t i) {
    if (lines[i].tokens == 0) return;
    cur.push_back(i);
    cur_tokens += lines[i].tokens;
    cur_has_new = true;
  };

  for (const Block& b : blocks) {
    if (b.heading != cur_heading) {
      emit(false);
      cur.clear();
      cur_tokens = 0;
      cur_heading = b.heading;
    }
    int32_t block_tokens = 0;
    for (size_t i = b.first; i <= b.last; ++i) block_tokens += lines[i].tokens;
    if (cur_tokens + block_tokens <= max_tokens) {
      for (size_t i = b.first; i <= b.last; ++i) push_line(i);
      continue;
    }
    // Does not fit: close the current chunk (a code definition starts fresh), then place
    // the block, splitting it by lines when it is too big on its own.
    if (cur_has_new) emit(!b.definition);
    if (cur_tokens + block_tokens <= max_tokens) {
      for (size_t i = b.first; i <= b.last; ++i) push_line(i);
      continue;
    }
    size_t i = b.first;
    while (i <= b.last) {
      if (cur_tokens + lines[i].tokens > max_tokens && cur_has_new) {
        // For code, back up to the last column-0 line in the second half of the chunk.
        if (format == Format::kCode && cur.size() > 2) {
          size_t best = SIZE_MAX;
          for (size_t k = cur.size() - 1; k > cur.size() / 2; --k) {
            std::string_view t = lines[cur[k]].text;
            if (!t.empty() && t[0] != ' ' && t[0] != '\t' && t[0] != '}' && cur[k] >= b.first) {
              best = k;
              break;
            }
          }
          if (best != SIZE_MAX) {
            size_t restart = cur[best];
            while (cur.size() > best) {
              cur_tokens -= lines[cur.back()].tokens;
              cur.pop_back();
            }
            emit(false);
            cur.clear();
            cur_tokens = 0;
            i = restart;
            continue;
          }
        }
        emit(true);
      }
      if (lines[i].tokens > max_tokens && cur.empty()) {
        // A single piece still over the budget (dense text): it becomes its own chunk.
        push_line(i);
        emit(false);
        ++i;
        continue;
      }
      if (cur_tokens + lines[i].tokens > max_tokens && !cur_has_new) {
        cur.clear();  // the carried overlap leaves no room for this line
        cur_tokens = 0;
      }
      push_line(i);
      ++i;
    }
  }
  emit(false);
  return chunks;
}

}  // namespace sov::kb
