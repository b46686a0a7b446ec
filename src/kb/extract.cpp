#include "kb/extract.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <mutex>

#include "base/confined.h"
#include "base/utf8.h"

namespace sov::kb {
namespace {

using namespace std::string_view_literals;

struct Magic {
  std::string_view bytes;
  const char* what;
};

// Signatures of common binary formats that would otherwise slip through as "text" (several
// have no NUL byte in their first kilobytes).
constexpr std::array kMagics = {
    Magic{"\x89PNG"sv, "PNG image"},
    Magic{"\xFF\xD8\xFF"sv, "JPEG image"},
    Magic{"GIF8"sv, "GIF image"},
    Magic{"PK\x03\x04"sv, "zip archive"},
    Magic{"\x7F"
          "ELF"sv,
          "executable"},
    Magic{"\x1F\x8B"sv, "gzip data"},
    Magic{"GGUF"sv, "GGUF model"},
    Magic{"SQLite format 3"sv, "SQLite database"},
    Magic{"BZh"sv, "bzip2 data"},
    Magic{"\xFD"
          "7zXZ"sv,
          "xz data"},
    Magic{"7z\xBC\xAF"sv, "7z archive"},
    Magic{"\x28\xB5\x2F\xFD"sv, "zstd data"},
    Magic{"RIFF"sv, "RIFF media"},
    Magic{"OggS"sv, "Ogg media"},
    Magic{"ID3"sv, "MP3 audio"},
    Magic{"fLaC"sv, "FLAC audio"},
    Magic{"\xCA\xFE\xBA\xBE"sv, "Java class"},
    Magic{"MZ"sv, "Windows executable"},
    Magic{"\x00\x61\x73\x6D"sv, "WebAssembly"},
    Magic{"wOFF"sv, "font"},
    Magic{"\xD0\xCF\x11\xE0"sv, "OLE document"},
    Magic{"Rar!"sv, "rar archive"},
};

std::string lower_extension(std::string_view name) {
  size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  std::string ext(name.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

bool in(std::string_view ext, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), ext) != list.end();
}

Format format_from_extension(std::string_view ext) {
  if (in(ext, {"md", "markdown", "mdown", "mkd", "mdx"})) return Format::kMarkdown;
  if (in(ext, {"rst", "rest"})) return Format::kRst;
  if (in(ext, {"html", "htm", "xhtml"})) return Format::kHtml;
  if (in(ext, {"json", "jsonl", "ndjson", "geojson"})) return Format::kJson;
  if (in(ext, {"csv", "tsv"})) return Format::kCsv;
  if (in(ext,
         {"c",     "h",    "cc",    "cpp",    "cxx",    "hpp",  "hh",  "hxx",  "py",     "pyi",   "js",
          "mjs",   "cjs",  "ts",    "tsx",    "jsx",    "go",   "rs",  "java", "kt",     "kts",   "scala",
          "rb",    "php",  "pl",    "pm",     "sh",     "bash", "zsh", "fish", "lua",    "swift", "m",
          "mm",    "cs",   "fs",    "hs",     "ml",     "mli",  "clj", "ex",   "exs",    "erl",   "el",
          "lisp",  "scm",  "sql",   "r",      "jl",     "dart", "zig", "nim",  "v",      "vhd",   "sv",
          "cmake", "mk",   "proto", "gradle", "groovy", "ps1",  "bat", "vue",  "svelte", "css",   "scss",
          "less",  "toml", "yaml",  "yml",    "ini",    "cfg",  "xml"}))
    return Format::kCode;
  return Format::kText;
}

bool looks_like_html(std::string_view bytes) {
  std::string head(bytes.substr(0, 512));
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t i = head.find_first_not_of(" \t\r\n");
  if (i == std::string::npos) return false;
  std::string_view h = std::string_view(head).substr(i);
  if (h.starts_with("\xef\xbb\xbf")) h.remove_prefix(3);
  return h.starts_with("<!doctype html") || h.starts_with("<html");
}

// --- HTML ---------------------------------------------------------------------------------

struct Entity {
  std::string_view name;
  uint32_t cp;
};
constexpr std::array kEntities = {
    Entity{"amp", '&'},      Entity{"lt", '<'},       Entity{"gt", '>'},       Entity{"quot", '"'},
    Entity{"apos", '\''},    Entity{"nbsp", 0xA0},    Entity{"copy", 0xA9},    Entity{"reg", 0xAE},
    Entity{"trade", 0x2122}, Entity{"mdash", 0x2014}, Entity{"ndash", 0x2013}, Entity{"hellip", 0x2026},
    Entity{"lsquo", 0x2018}, Entity{"rsquo", 0x2019}, Entity{"ldquo", 0x201C}, Entity{"rdquo", 0x201D},
    Entity{"laquo", 0xAB},   Entity{"raquo", 0xBB},   Entity{"middot", 0xB7},  Entity{"bull", 0x2022},
    Entity{"euro", 0x20AC},  Entity{"pound", 0xA3},   Entity{"deg", 0xB0},     Entity{"times", 0xD7},
    Entity{"eacute", 0xE9},  Entity{"egrave", 0xE8},  Entity{"agrave", 0xE0},  Entity{"uuml", 0xFC},
    Entity{"ouml", 0xF6},    Entity{"auml", 0xE4},    Entity{"szlig", 0xDF},   Entity{"ccedil", 0xE7},
};

// Decodes the character reference at s[*i] ('&'); on success appends it and advances.
bool decode_entity(std::string_view s, size_t* i, std::string* out) {
  size_t semi = s.find(';', *i + 1);
  if (semi == std::string_view::npos || semi - *i > 12) return false;
  std::string_view body = s.substr(*i + 1, semi - *i - 1);
  uint32_t cp = 0;
  if (body.size() >= 2 && body[0] == '#') {
    bool hex = body[1] == 'x' || body[1] == 'X';
    std::string_view digits = body.substr(hex ? 2 : 1);
    if (digits.empty()) return false;
    for (char c : digits) {
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (hex && c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (hex && c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        return false;
      cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
      if (cp > 0x10FFFF) return false;
    }
    if (cp == 0) cp = 0xFFFD;
  } else {
    auto it =
        std::find_if(kEntities.begin(), kEntities.end(), [&](const Entity& e) { return e.name == body; });
    if (it == kEntities.end()) return false;
    cp = it->cp;
  }
  if (cp == 0xA0) cp = ' ';
  utf8::append(out, cp);
  *i = semi + 1;
  return true;
}

bool is_block_tag(std::string_view name) {
  return in(name, {"p",       "div",      "br",      "li",      "ul",      "ol",    "tr",     "table",
                   "section", "article",  "header",  "footer",  "nav",     "aside", "pre",    "blockquote",
                   "hr",      "dt",       "dd",      "dl",      "title",   "main",  "figure", "figcaption",
                   "form",    "fieldset", "address", "details", "summary", "body",  "head",   "html",
                   "h1",      "h2",       "h3",      "h4",      "h5",      "h6",    "td",     "th"});
}

// Skips a raw-text element's body (script, style, ...) starting at *i: advances past its
// closing tag, or to the end when there is none.
void skip_raw_text(std::string_view s, size_t* i, std::string_view name) {
  std::string close = "</";
  close += name;
  size_t pos = *i;
  while (true) {
    size_t lt = s.find("</", pos);
    if (lt == std::string_view::npos) {
      *i = s.size();
      return;
    }
    bool same = lt + close.size() <= s.size();
    for (size_t k = 0; same && k < close.size(); ++k)
      same = std::tolower(static_cast<unsigned char>(s[lt + k])) == close[k];
    if (same) {
      size_t gt = s.find('>', lt);
      *i = gt == std::string_view::npos ? s.size() : gt + 1;
      return;
    }
    pos = lt + 2;
  }
}

void append_newline(std::string* out) {
  while (!out->empty() && out->back() == ' ') out->pop_back();
  out->push_back('\n');
}

// Collapses spaces and limits blank lines to one; trims each line.
std::string tidy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  int newlines = 2;  // at start: drop leading blank lines
  bool space = false;
  for (char c : s) {
    if (c == '\n') {
      space = false;
      if (newlines < 2) out.push_back('\n');
      ++newlines;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      space = newlines == 0;
    } else {
      if (space) out.push_back(' ');
      space = false;
      newlines = 0;
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  if (!out.empty()) out.push_back('\n');
  return out;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) utf8::append(&out, static_cast<unsigned char>(c));
  return out;
}

std::string normalise_newlines(std::string_view s) {
  if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void quiet_poppler(const std::string&, void*) {}

}  // namespace

const char* format_name(Format f) {
  switch (f) {
    case Format::kText: return "text";
    case Format::kMarkdown: return "markdown";
    case Format::kRst: return "rst";
    case Format::kCode: return "code";
    case Format::kHtml: return "html";
    case Format::kPdf: return "pdf";
    case Format::kJson: return "json";
    case Format::kCsv: return "csv";
  }
  return "text";
}

Classification classify(std::string_view file_name, std::string_view bytes) {
  Classification c;
  if (bytes.starts_with("%PDF-")) {
    c.indexable = true;
    c.format = Format::kPdf;
    return c;
  }
  for (const Magic& m : kMagics) {
    if (bytes.starts_with(m.bytes)) {
      c.reason = std::string("binary (") + m.what + ")";
      return c;
    }
  }
  if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) {
    c.reason = "binary (UTF-16 text is not supported)";
    return c;
  }
  if (bytes.find('\0') != std::string_view::npos) {
    c.reason = "binary (NUL bytes)";
    return c;
  }
  if (!utf8::is_valid(bytes)) {
    // Old 8-bit text (Latin-1) is common; lots of control bytes mean binary.
    size_t control = 0;
    for (char ch : bytes) {
      auto u = static_cast<unsigned char>(ch);
      if ((u < 0x20 && u != '\n' && u != '\r' && u != '\t' && u != '\f') || u == 0x7F) ++control;
    }
    if (control * 100 > bytes.size()) {
      c.reason = "binary (not UTF-8 text)";
      return c;
    }
    c.latin1 = true;
  }
  c.indexable = true;
  c.format = format_from_extension(lower_extension(file_name));
  if (c.format == Format::kText && lower_extension(file_name).empty() && looks_like_html(bytes))
    c.format = Format::kHtml;
  return c;
}

std::string html_to_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    char ch = s[i];
    if (ch == '&') {
      if (!decode_entity(s, &i, &out)) {
        out.push_back('&');
        ++i;
      }
      continue;
    }
    if (ch != '<') {
      out.push_back(ch == '\n' || ch == '\r' || ch == '\t' ? ' ' : ch);
      ++i;
      continue;
    }
    // A tag, a comment, a declaration or a stray '<'.
    if (s.substr(i, 4) == "<!--") {
      size_t end = s.find("-->", i + 4);
      i = end == std::string_view::npos ? s.size() : end + 3;
      continue;
    }
    size_t j = i + 1;
    bool closing = j < s.size() && s[j] == '/';
    if (closing) ++j;
    size_t name_start = j;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '-' || s[j] == ':'))
      ++j;
    if (j == name_start && !(j < s.size() && (s[j] == '!' || s[j] == '?'))) {
      out.push_back('<');  // "a < b": not a tag
      ++i;
      continue;
    }
    std::string name(s.substr(name_start, j - name_start));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // Find the end of the tag, skipping quoted attribute values.
    char quote = 0;
    while (j < s.size()) {
      if (quote) {
        if (s[j] == quote) quote = 0;
      } else if (s[j] == '"' || s[j] == '\'') {
        quote = s[j];
      } else if (s[j] == '>') {
        break;
      }
      ++j;
    }
    i = j < s.size() ? j + 1 : s.size();
    if (!closing &&
        in(name, {"script", "style", "template", "noscript", "svg", "math", "iframe", "object"})) {
      skip_raw_text(s, &i, name);
      continue;
    }
    if (name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6') {
      append_newline(&out);
      out.push_back('\n');
      if (!closing) {
        out.append(static_cast<size_t>(name[1] - '0'), '#');
        out.push_back(' ');
      } else {
        out.push_back('\n');
      }
      continue;
    }
    if (is_block_tag(name)) {
      append_newline(&out);
      if (name == "p" || name == "table" || name == "pre" || name == "blockquote") out.push_back('\n');
    } else if (name == "img" || name == "td" || name == "th") {
      out.push_back(' ');
    }
  }
  return tidy(out);
}

Result<std::string> pdf_to_text_in_process(std::string_view bytes, size_t max_text_bytes) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { poppler::set_debug_error_function(quiet_poppler, nullptr); });
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) return Status::unsupported("PDF too large");
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!doc) return Status::corrupt("not a readable PDF");
  if (doc->is_locked()) return Status::unsupported("encrypted PDF");
  std::string out;
  for (int p = 0; p < doc->pages(); ++p) {
    std::unique_ptr<poppler::page> page(doc->create_page(p));
    if (!page) continue;
    poppler::byte_array text = page->text().to_utf8();
    if (!out.empty()) out += "\n\n";
    out.append(text.data(), text.size());
    if (out.size() > max_text_bytes) {
      return Status::resource_exhausted("PDF text larger than " + std::to_string(max_text_bytes >> 20) +
                                        " MiB");
    }
  }
  std::string clean = normalise_newlines(utf8::sanitize(out));
  for (char& c : clean) {
    if (c == '\f') c = '\n';
  }
  return clean;
}

Result<std::string> pdf_to_text(std::string_view bytes, const ConfineLimits& limits) {
  // Poppler runs only in the child, so no poppler lock can be held at fork time.
  return run_confined(
      "PDF extraction", [&] { return pdf_to_text_in_process(bytes, limits.max_result_bytes); }, limits);
}

Result<std::string> extract_text(const Classification& c, std::string_view bytes) {
  if (!c.indexable) return Status::invalid_argument(c.reason);
  if (c.format == Format::kPdf) return pdf_to_text(bytes);
  std::string text = c.latin1 ? latin1_to_utf8(bytes) : normalise_newlines(bytes);
  if (c.latin1) text = normalise_newlines(text);
  if (c.format == Format::kHtml) return html_to_text(text);
  return text;
}

}  // namespace sov::kb
