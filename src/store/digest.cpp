#include "store/digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace sov::store {
namespace {

constexpr size_t kHexLength = 64;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<Digest> Digest::parse(std::string_view text) {
  // Quote at most a short prefix of hostile input in the message.
  auto bad = [&](const char* why) {
    std::string shown(text.substr(0, 80));
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    }
    return Status::invalid_argument("invalid digest \"" + shown + "\": " + why);
  };
  if (text.size() != 7 + kHexLength) return bad("expected sha256:<64 hex digits>");
  if (text.substr(0, 6) != "sha256" || (text[6] != ':' && text[6] != '-'))
    return bad("expected sha256:<64 hex digits>");
  Digest d;
  d.hex_.reserve(kHexLength);
  for (char c : text.substr(7)) {
    int v = hex_value(c);
    if (v < 0) return bad("not a hex digit");
    d.hex_.push_back("0123456789abcdef"[v]);
  }
  return d;
}

Digest Digest::from_bytes(const uint8_t bytes[32]) {
  Digest d;
  d.hex_.reserve(kHexLength);
  for (int i = 0; i < 32; ++i) {
    d.hex_.push_back("0123456789abcdef"[bytes[i] >> 4]);
    d.hex_.push_back("0123456789abcdef"[bytes[i] & 15]);
  }
  return d;
}

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(impl_->ctx);
}

void Sha256::update(const void* data, size_t n) {
  if (n > 0) EVP_DigestUpdate(impl_->ctx, data, n);
}

Digest Sha256::finish() {
  uint8_t out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, out, &len);
  return Digest::from_bytes(out);
}

Digest sha256_of(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
}

Result<Digest> sha256_file(const std::string& path, uint64_t* size_out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(path + ": " + std::strerror(errno));
  Sha256 h;
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Status::io_error(path + ": read failed: " + std::strerror(errno));
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  ::close(fd);
  if (size_out) *size_out = total;
  return h.finish();
}

}  // namespace sov::store
