// libFuzzer target: model names and digests from the network become paths under the store
// root (<root>/manifests/<host>/<ns>/<model>/<tag>, <root>/blobs/sha256-<hex>). Whatever
// parse_model_name / Digest::parse accept must yield a path that stays inside the root, has
// exactly the expected number of components, and round-trips through display().
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "store/digest.h"
#include "store/name.h"

namespace {

const std::filesystem::path kRoot = "/store-root";

// True when `p`, normalised, lies strictly under `dir` with `depth` more components.
bool inside(const std::filesystem::path& p, const std::filesystem::path& dir, int depth) {
  const auto norm = p.lexically_normal();
  auto rel = norm.lexically_relative(dir);
  if (rel.empty() || rel.is_absolute()) return false;
  int n = 0;
  for (const auto& part : rel) {
    if (part == ".." || part == "." || part.empty()) return false;
    ++n;
  }
  return n == depth && norm == p;  // nothing to normalise away: no "." / ".." / "//"
}

bool clean_part(const std::string& s) {
  if (s.empty() || s.find("..") != std::string::npos) return false;
  for (unsigned char c : s) {
    if (c < 0x21 || c >= 0x7f || c == '/' || c == '\\' || c == '%') return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto name = sov::store::parse_model_name(text);
  if (name.is_ok()) {
    for (const auto* part : {&name->host, &name->ns, &name->model, &name->tag}) {
      if (!clean_part(*part)) __builtin_trap();
    }
    const auto manifests = kRoot / "manifests";
    const auto path = manifests / name->host / name->ns / name->model / name->tag;
    if (!inside(path, manifests, 4)) __builtin_trap();
    if (name->full().size() > 2 * sov::store::kMaxNameLength) __builtin_trap();
    auto back = sov::store::parse_model_name(name->display());
    if (!back.is_ok() || !back->same_as(*name)) __builtin_trap();
    auto full = sov::store::parse_model_name(name->full());
    if (!full.is_ok() || !full->same_as(*name)) __builtin_trap();
  }
  auto digest = sov::store::Digest::parse(text);
  if (digest.is_ok()) {
    if (digest->hex().size() != 64 ||
        digest->hex().find_first_not_of("0123456789abcdef") != std::string::npos) {
      __builtin_trap();
    }
    if (!inside(kRoot / "blobs" / digest->file_name(), kRoot / "blobs", 1)) __builtin_trap();
    auto again = sov::store::Digest::parse(digest->str());
    if (!again.is_ok() || !(*again == *digest)) __builtin_trap();
  }
  (void)sov::store::looks_like_path(text);
  return 0;
}
