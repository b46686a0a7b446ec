// Content digests of the model store: "sha256:<64 hex>" values, their blob file names
// ("sha256-<64 hex>", Ollama's on-disk form) and a streaming SHA-256 hasher (OpenSSL EVP).
//
// A Digest can only be built by parse() or by hashing, so holding one proves it is exactly
// 64 lowercase hex digits: it is safe to put into a file name or a URL. Digests arrive from
// registries and HTTP clients (Ollama's CVE-2024-37032 was a digest with "../" in it), so
// parse() refuses anything else before it reaches the file system.
//
// Digest is a plain value. A Sha256 hasher is single-threaded; use one per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sov::store {

class Digest {
 public:
  Digest() = default;  // empty: "no digest"; check with empty()

  // Accepts "sha256:<hex>" and "sha256-<hex>" with exactly 64 hex digits (either case;
  // stored lowercase). Anything else is kInvalidArgument.
  static Result<Digest> parse(std::string_view text);
  // From 32 raw bytes.
  static Digest from_bytes(const uint8_t bytes[32]);

  bool empty() const { return hex_.empty(); }
  const std::string& hex() const { return hex_; }
  std::string str() const { return "sha256:" + hex_; }         // wire form
  std::string file_name() const { return "sha256-" + hex_; }   // blob file name
  std::string short_id() const { return hex_.substr(0, 12); }  // Ollama's short ID

  friend bool operator==(const Digest& a, const Digest& b) = default;
  friend auto operator<=>(const Digest& a, const Digest& b) = default;

 private:
  std::string hex_;
};

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Finishes the hash; the hasher must not be used afterwards.
  Digest finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Digest sha256_of(std::string_view bytes);
// Hashes a file by streaming it; errors name the path. `size_out` (optional) gets its length.
Result<Digest> sha256_file(const std::string& path, uint64_t* size_out = nullptr);

}  // namespace sov::store
