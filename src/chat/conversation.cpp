#include "chat/conversation.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "chat/parameters.h"

namespace sov::chat {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::string_view kFormat = "sov-conversation";
constexpr int kVersion = 1;

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

bool is_valid_role(std::string_view role) {
  return role == "system" || role == "user" || role == "assistant" || role == "tool";
}

Status Conversation::add(std::string_view role, std::string content) {
  if (!is_valid_role(role))
    return Status::invalid_argument(fmt::format("unknown role \"{}\"", role.substr(0, 40)));
  messages_.push_back({{"role", std::string(role)}, {"content", std::move(content)}});
  return Status::ok();
}

ojson Conversation::chat_messages() const {
  ojson out = ojson::array();
  if (!system_.empty()) out.push_back({{"role", "system"}, {"content", system_}});
  for (const auto& m : messages_) out.push_back(m);
  return out;
}

ojson Conversation::to_json() const {
  ojson j = ojson::object();
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["model"] = model_;
  j["system"] = system_;
  j["parameters"] = parameters_;
  j["messages"] = messages_;
  return j;
}

Result<Conversation> Conversation::from_json(const ojson& j) {
  if (!j.is_object()) return Status::invalid_argument("a conversation must be a JSON object");
  if (j.value("format", "") != kFormat)
    return Status::invalid_argument(
        fmt::format("not a conversation file (\"format\" is not \"{}\")", kFormat));
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int64_t>() != kVersion)
    return Status::unsupported(
        fmt::format("unsupported conversation version (this program reads {})", kVersion));
  Conversation c;
  auto text = [&](const char* key, std::string* out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::ok();
    if (!it->is_string()) return Status::invalid_argument(fmt::format("\"{}\" must be a string", key));
    *out = it->get<std::string>();
    return Status::ok();
  };
  SOV_RETURN_IF_ERROR(text("model", &c.model_));
  SOV_RETURN_IF_ERROR(text("system", &c.system_));
  if (auto it = j.find("parameters"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return Status::invalid_argument("\"parameters\" must be an object");
    auto checked = generation_settings(*it);
    if (!checked) return Status::invalid_argument("parameters: " + checked.status().message());
    c.parameters_ = *it;
  }
  if (auto it = j.find("messages"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return Status::invalid_argument("\"messages\" must be an array");
    size_t i = 0;
    for (const auto& m : *it) {
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") ||
          !m["content"].is_string()) {
        return Status::invalid_argument(
            fmt::format("message {}: needs a string \"role\" and a string \"content\"", i));
      }
      if (!is_valid_role(m["role"].get<std::string>()))
        return Status::invalid_argument(fmt::format("message {}: unknown role", i));
      c.messages_.push_back({{"role", m["role"]}, {"content", m["content"]}});
      ++i;
    }
  }
  return c;
}

Status Conversation::save(const std::string& path) const {
  if (path.empty()) return Status::invalid_argument("give a file name");
  const std::string tmp = fmt::format("{}.tmp{}", path, static_cast<long>(getpid()));
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Status::io_error(fmt::format("{}: {}", tmp, errno_text()));
  const std::string text = to_json().dump(2) + "\n";
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (fsync(fileno(f)) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    Status s = Status::io_error(fmt::format("{}: {}", tmp, errno_text()));
    std::remove(tmp.c_str());
    return s;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Status::io_error(fmt::format("{}: {}", path, errno_text()));
    std::remove(tmp.c_str());
    return s;
  }
  return Status::ok();
}

Result<Conversation> Conversation::load(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return Status::not_found(fmt::format("{}: {}", path, errno_text()));
  if (!S_ISREG(st.st_mode)) return Status::invalid_argument(fmt::format("{}: not a regular file", path));
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes)
    return Status::invalid_argument(fmt::format("{}: larger than {} MiB", path, kMaxFileBytes >> 20));
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::io_error(fmt::format("{}: {}", path, errno_text()));
  std::string text;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() <= kMaxFileBytes) text.append(buf, n);
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  if (read_error) return Status::io_error(fmt::format("{}: read error", path));
  if (text.size() > kMaxFileBytes)
    return Status::invalid_argument(fmt::format("{}: larger than {} MiB", path, kMaxFileBytes >> 20));
  ojson j = ojson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid_argument(fmt::format("{}: not valid JSON", path));
  auto c = from_json(j);
  if (!c) return Status(c.status().code(), fmt::format("{}: {}", path, c.status().message()));
  return c;
}

}  // namespace sov::chat
