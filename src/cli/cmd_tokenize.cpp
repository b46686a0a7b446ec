// `sov tokenize` and `sov detokenize`: run a model file's tokenizer from the command line.
//
//   sov tokenize -m FILE [--ids] [--no-add-special] [--parse-special] [TEXT]
//     Tokenizes TEXT, or all of stdin when TEXT is absent (a trailing newline is part of the
//     text). Prints one "id<TAB>piece" line per token, the piece escaped (\n, \t, \r, \\ and
//     \xNN for control characters and bytes that are not valid UTF-8); with --ids only the
//     ids, space-separated, on one line.
//   sov detokenize -m FILE ID...
//     Prints the text of the ids (special tokens shown as their text), then a newline.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "base/utf8.h"
#include "cli/command.h"
#include "gguf/file.h"
#include "tokenizer/tokenizer.h"

namespace sov::cli {
namespace {

Result<std::unique_ptr<tokenizer::Tokenizer>> load_tokenizer(const std::string& path) {
  auto file = gguf::File::open(path);
  if (!file.is_ok()) return file.status();
  auto tok = tokenizer::Tokenizer::from_gguf(*file);
  if (!tok.is_ok()) return tok.status().with_context(path);
  return std::move(tok).value();
}

std::string escape_piece(const std::string& p) {
  std::string out;
  size_t pos = 0;
  while (pos < p.size()) {
    const unsigned char c = static_cast<unsigned char>(p[pos]);
    if (c >= 0x80) {
      size_t next = pos;
      utf8::decode(p, &next);
      std::string_view seq(p.data() + pos, next - pos);
      if (utf8::is_valid(seq)) {
        out.append(seq);
        pos = next;
        continue;
      }
    }
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7F || c >= 0x80) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02X", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++pos;
  }
  return out;
}

struct TokenizeOptions {
  std::string model;
  std::string text;
  bool ids_only = false;
  bool no_add_special = false;
  bool parse_special = false;
};

int run_tokenize(const TokenizeOptions& o, bool text_given) {
  auto tok = load_tokenizer(o.model);
  if (!tok.is_ok()) return fail(tok.status().message());
  std::string text = o.text;
  if (!text_given) text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  std::vector<int32_t> ids = (*tok)->encode(text, !o.no_add_special, o.parse_special);
  std::string out;
  if (o.ids_only) {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ' ';
      out += std::to_string(ids[i]);
    }
    out += '\n';
  } else {
    for (int32_t id : ids) out += std::to_string(id) + "\t" + escape_piece((*tok)->piece(id)) + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int run_detokenize(const std::string& model, const std::vector<std::string>& args) {
  auto tok = load_tokenizer(model);
  if (!tok.is_ok()) return fail(tok.status().message());
  std::vector<int32_t> ids;
  for (const std::string& a : args) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(a, &used);
    } catch (...) {
      used = 0;
    }
    if (used != a.size() || a.empty()) return fail("'" + a + "' is not a token id");
    if (v < 0 || v >= (*tok)->n_vocab()) {
      return fail("token id " + a + " is out of range (vocabulary of " + std::to_string((*tok)->n_vocab()) +
                  ")");
    }
    ids.push_back(static_cast<int32_t>(v));
  }
  std::string text = (*tok)->decode(ids) + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace

SOV_REGISTER_COMMAND(
    tokenize, Command{"tokenize", "Print the token ids of a text (from stdin without TEXT)",
                      [](CLI::App& sub) -> std::function<int()> {
                        auto o = std::make_shared<TokenizeOptions>();
                        sub.add_option("-m,--model", o->model, "GGUF model or vocabulary file")->required();
                        sub.add_flag("--ids", o->ids_only, "Print only the ids, on one line");
                        sub.add_flag("--no-add-special", o->no_add_special, "Do not add BOS/EOS (CLS/SEP)");
                        sub.add_flag("--parse-special", o->parse_special,
                                     "Recognise control tokens such as <|im_end|> in the text");
                        auto* text = sub.add_option("text", o->text, "Text (default: stdin)");
                        return [o, text] { return run_tokenize(*o, text->count() > 0); };
                      }});

SOV_REGISTER_COMMAND(detokenize,
                     Command{
                         "detokenize", "Print the text of token ids",
                         [](CLI::App& sub) -> std::function<int()> {
                           auto model = std::make_shared<std::string>();
                           auto ids = std::make_shared<std::vector<std::string>>();
                           sub.add_option("-m,--model", *model, "GGUF model or vocabulary file")->required();
                           sub.add_option("ids", *ids, "Token ids")->required();
                           return [model, ids] { return run_detokenize(*model, *ids); };
                         }});

}  // namespace sov::cli
