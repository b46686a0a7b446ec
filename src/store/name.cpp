#include "store/name.h"

#include <fmt/format.h>

namespace sov::store {
namespace {

constexpr size_t kMaxHostLength = 253;
constexpr size_t kMaxPartLength = 128;

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Shows hostile input safely and briefly in error messages.
std::string quoted(std::string_view s) {
  std::string out(s.substr(0, 80));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  if (s.size() > 80) out += "...";
  return "\"" + out + "\"";
}

enum class Part { kHost, kNamespace, kModel, kTag };

const char* part_name(Part p) {
  switch (p) {
    case Part::kHost: return "host";
    case Part::kNamespace: return "namespace";
    case Part::kModel: return "model";
    case Part::kTag: return "tag";
  }
  return "part";
}

// Returns "" when valid, else the reason.
std::string check_part(Part kind, std::string_view s) {
  const size_t max = kind == Part::kHost ? kMaxHostLength : kMaxPartLength;
  if (s.empty()) return fmt::format("empty {}", part_name(kind));
  if (s.size() > max) return fmt::format("{} longer than {} characters", part_name(kind), max);
  if (s.find("..") != std::string_view::npos) return fmt::format("\"..\" in the {}", part_name(kind));
  std::string_view body = s;
  if (kind == Part::kHost) {
    if (size_t colon = s.find(':'); colon != std::string_view::npos) {
      std::string_view port = s.substr(colon + 1);
      if (port.empty() || port.size() > 5) return "bad port in the host";
      for (char c : port) {
        if (c < '0' || c > '9') return "bad port in the host";
      }
      body = s.substr(0, colon);
      if (body.empty()) return "empty host";
    }
  }
  const char first = body[0];
  if (!(is_alnum(first) || (first == '_' && kind != Part::kHost))) {
    return fmt::format("the {} must start with a letter or digit", part_name(kind));
  }
  for (char c : body) {
    bool ok = is_alnum(c) || c == '_' || c == '-' || (c == '.' && kind != Part::kNamespace);
    if (!ok) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
        return fmt::format("invalid byte in the {}", part_name(kind));
      }
      return fmt::format("character '{}' is not allowed in the {}", c, part_name(kind));
    }
  }
  return "";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

bool equals_fold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string ModelName::full() const {
  return host + "/" + ns + "/" + model + ":" + tag;
}

std::string ModelName::display() const {
  std::string out;
  if (!equals_fold(host, kDefaultHost)) {
    out = host + "/" + ns + "/";
  } else if (!equals_fold(ns, kDefaultNamespace)) {
    out = ns + "/";
  }
  return out + model + ":" + tag;
}

bool ModelName::same_as(const ModelName& o) const {
  return equals_fold(host, o.host) && equals_fold(ns, o.ns) && equals_fold(model, o.model) &&
         equals_fold(tag, o.tag);
}

Result<ModelName> parse_model_name(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::invalid_argument(fmt::format("invalid model name {}: {}", quoted(text), why));
  };
  if (text.empty()) return bad("empty name");
  if (text.size() > kMaxNameLength) return bad(fmt::format("longer than {} characters", kMaxNameLength));

  // The tag follows the last ':' of the last path segment (a ':' before a '/' is a port).
  std::string_view rest = text, tag = kDefaultTag;
  const size_t slash = text.rfind('/');
  const size_t colon = text.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    tag = text.substr(colon + 1);
    rest = text.substr(0, colon);
    if (tag.empty()) return bad("empty tag after ':'");
  }

  std::string_view parts[3];
  size_t n = 0;
  size_t start = 0;
  for (;;) {
    size_t pos = rest.find('/', start);
    std::string_view piece =
        rest.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start);
    if (n == 3) return bad("too many '/' (expected [host/][namespace/]model[:tag])");
    parts[n++] = piece;
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }

  ModelName name;
  name.host = std::string(kDefaultHost);
  name.ns = std::string(kDefaultNamespace);
  name.tag = std::string(tag);
  if (n == 1) {
    name.model = std::string(parts[0]);
  } else if (n == 2) {
    name.ns = std::string(parts[0]);
    name.model = std::string(parts[1]);
  } else {
    name.host = lower(parts[0]);
    name.ns = std::string(parts[1]);
    name.model = std::string(parts[2]);
  }
  // Check the model and tag before the host so "a:b:c" reports the colon in the model.
  const std::pair<Part, const std::string*> checks[] = {{Part::kModel, &name.model},
                                                        {Part::kTag, &name.tag},
                                                        {Part::kNamespace, &name.ns},
                                                        {Part::kHost, &name.host}};
  for (const auto& [kind, value] : checks) {
    std::string why = check_part(kind, *value);
    if (!why.empty()) return bad(why);
  }
  return name;
}

bool looks_like_path(std::string_view text) {
  if (text.starts_with("/") || text.starts_with("./") || text.starts_with("../") || text.starts_with("~/")) {
    return true;
  }
  if (text.size() < 5) return false;
  return text.find('/') != std::string_view::npos && equals_fold(text.substr(text.size() - 5), ".gguf");
}

}  // namespace sov::store
