#include "store/modelfile.h"

#include <fmt/format.h>

#include "base/utf8.h"
#include "store/params.h"

namespace sov::store {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<Modelfile> run() {
    Modelfile mf;
    bool have_from = false;
    for (;;) {
      skip_blank_lines_and_comments();
      if (pos_ >= s_.size()) break;
      const int line = line_;
      std::string word = read_word();
      if (word.empty()) return error(line, "expected a command such as FROM, PARAMETER or SYSTEM");
      std::string cmd = upper(word);
      if (cmd == "ADAPTER") {
        return error(line,
                     "ADAPTER is not supported: Sovereign cannot apply LoRA adapters; merge the adapter into "
                     "the model's GGUF file first");
      }
      const bool known = cmd == "FROM" || cmd == "PARAMETER" || cmd == "TEMPLATE" || cmd == "SYSTEM" ||
                         cmd == "MESSAGE" || cmd == "LICENSE";
      if (!known) return error(line, fmt::format("unknown command \"{}\"", shown(word)));
      if (!skip_separator()) return error(line, cmd + " needs a value");

      if (cmd == "PARAMETER" || cmd == "MESSAGE") {
        std::string key = read_token();
        if (!skip_separator()) return error(line, fmt::format("{} {} needs a value", cmd, shown(key)));
        SOV_ASSIGN_OR_RETURN(std::string value, read_value(line));
        if (cmd == "PARAMETER") {
          // Type-check now so the error names the line.
          auto checked = params_from_text({{key, value}});
          if (!checked) return error(line, checked.status().message());
          mf.parameters.emplace_back(std::move(key), std::move(value));
        } else {
          if (key != "system" && key != "user" && key != "assistant") {
            return error(line,
                         fmt::format("MESSAGE role \"{}\" is not system, user or assistant", shown(key)));
          }
          mf.messages.push_back({std::move(key), std::move(value)});
        }
        continue;
      }
      SOV_ASSIGN_OR_RETURN(std::string value, read_value(line));
      if (cmd == "FROM") {
        if (have_from) return error(line, "FROM given twice");
        if (value.empty()) return error(line, "FROM needs a model name or a path to a .gguf file");
        mf.from = std::move(value);
        have_from = true;
      } else if (cmd == "TEMPLATE") {
        if (mf.template_text) return error(line, "TEMPLATE given twice");
        mf.template_text = std::move(value);
      } else if (cmd == "SYSTEM") {
        if (mf.system) return error(line, "SYSTEM given twice");
        mf.system = std::move(value);
      } else {
        mf.licenses.push_back(std::move(value));
      }
    }
    if (!have_from) return Status::invalid_argument("Modelfile: no FROM line (FROM names the base model)");
    return mf;
  }

 private:
  static std::string upper(std::string_view w) {
    std::string out(w);
    for (char& c : out) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
  }
  static std::string shown(std::string_view s) {
    std::string out = utf8::sanitize(s.substr(0, 40));
    return s.size() > 40 ? out + "..." : out;
  }
  static Status error(int line, const std::string& what) {
    return Status::invalid_argument(fmt::format("Modelfile line {}: {}", line, what));
  }

  void advance() {
    if (s_[pos_] == '\n') ++line_;
    ++pos_;
  }

  void skip_blank_lines_and_comments() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (is_blank(c) || c == '\n' || c == '\r') {
        advance();
      } else if (c == '#') {
        while (pos_ < s_.size() && s_[pos_] != '\n') advance();
      } else {
        break;
      }
    }
  }

  std::string read_word() {
    size_t start = pos_;
    while (pos_ < s_.size() &&
           ((s_[pos_] >= 'a' && s_[pos_] <= 'z') || (s_[pos_] >= 'A' && s_[pos_] <= 'Z'))) {
      ++pos_;
    }
    if (pos_ < s_.size() && !is_blank(s_[pos_]) && s_[pos_] != '\n' && s_[pos_] != '\r') {
      // Something like "FROM:x": report the whole token as the unknown command.
      while (pos_ < s_.size() && !is_blank(s_[pos_]) && s_[pos_] != '\n') ++pos_;
    }
    return std::string(s_.substr(start, pos_ - start));
  }

  std::string read_token() {
    size_t start = pos_;
    while (pos_ < s_.size() && !is_blank(s_[pos_]) && s_[pos_] != '\n' && s_[pos_] != '\r') ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  // Skips blanks after a word; false when the line ends there (no value follows).
  bool skip_separator() {
    if (pos_ >= s_.size() || !is_blank(s_[pos_])) return false;
    while (pos_ < s_.size() && is_blank(s_[pos_])) ++pos_;
    return pos_ < s_.size() && s_[pos_] != '\n' && s_[pos_] != '\r';
  }

  // After a closing quote only blanks may follow on the line.
  Status expect_line_end(int line) {
    while (pos_ < s_.size() && (is_blank(s_[pos_]) || s_[pos_] == '\r')) ++pos_;
    if (pos_ < s_.size() && s_[pos_] != '\n') return error(line, "unexpected text after the closing quote");
    return Status::ok();
  }

  Result<std::string> read_value(int line) {
    if (s_.substr(pos_).starts_with("\"\"\"")) {
      pos_ += 3;
      size_t end = s_.find("\"\"\"", pos_);
      if (end == std::string_view::npos) return error(line, "unterminated \"\"\" string");
      std::string value(s_.substr(pos_, end - pos_));
      while (pos_ < end) advance();
      pos_ = end + 3;
      SOV_RETURN_IF_ERROR(expect_line_end(line));
      return value;
    }
    if (s_[pos_] == '"') {
      advance();
      std::string value;
      while (pos_ < s_.size() && s_[pos_] != '"') {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '"' || s_[pos_ + 1] == '\\')) {
          value.push_back(s_[pos_ + 1]);
          pos_ += 2;
          continue;
        }
        value.push_back(s_[pos_]);
        advance();
      }
      if (pos_ >= s_.size()) return error(line, "unterminated \" string");
      ++pos_;
      SOV_RETURN_IF_ERROR(expect_line_end(line));
      return value;
    }
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
    std::string_view raw = s_.substr(start, pos_ - start);
    while (!raw.empty() && (is_blank(raw.back()) || raw.back() == '\r')) raw.remove_suffix(1);
    return std::string(raw);
  }

  std::string_view s_;
  size_t pos_ = 0;
  int line_ = 1;
};

// Raw (unquoted) when the value survives "rest of the line, trailing blanks dropped".
bool raw_safe(std::string_view v) {
  if (v.empty() || v[0] == '"') return false;
  if (is_blank(v.front()) || is_blank(v.back()) || v.back() == '\r') return false;
  return v.find('\n') == std::string_view::npos && v.find('\r') == std::string_view::npos;
}

std::string quote(std::string_view v) {
  if (v.find_first_of("\"\\\n\r") == std::string_view::npos) return "\"" + std::string(v) + "\"";
  if (v.find("\"\"\"") == std::string_view::npos && v.back() != '"') {
    return "\"\"\"" + std::string(v) + "\"\"\"";
  }
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string value_text(std::string_view v) {
  return raw_safe(v) ? std::string(v) : quote(v);
}

}  // namespace

Result<Modelfile> parse_modelfile(std::string_view text) {
  if (text.size() > kMaxModelfileBytes) return Status::invalid_argument("Modelfile larger than 16 MiB");
  if (!utf8::is_valid(text)) return Status::invalid_argument("Modelfile is not valid UTF-8");
  if (text.find('\0') != std::string_view::npos)
    return Status::invalid_argument("Modelfile contains a NUL byte");
  return Parser(text).run();
}

std::string format_modelfile(const Modelfile& mf) {
  std::string out = "FROM " + value_text(mf.from) + "\n";
  if (mf.template_text) out += "TEMPLATE " + quote(*mf.template_text) + "\n";
  if (mf.system) out += "SYSTEM " + quote(*mf.system) + "\n";
  for (const auto& [name, value] : mf.parameters) {
    const bool is_list = param_type(name).is_ok() && *param_type(name) == ParamType::kStringList;
    out += "PARAMETER " + name + " " + (is_list ? quote(value) : value_text(value)) + "\n";
  }
  for (const auto& m : mf.messages) out += "MESSAGE " + m.role + " " + quote(m.content) + "\n";
  for (const auto& l : mf.licenses) out += "LICENSE " + quote(l) + "\n";
  return out;
}

}  // namespace sov::store
