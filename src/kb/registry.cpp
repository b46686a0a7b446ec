#include "kb/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace sov::kb {

std::string kb_root(const store::EnvLookup& env) {
  auto home = env("SOV_HOME");
  if (home && !home->empty()) return *home + "/kb";
  return env("HOME").value_or(".") + "/.sovereign/kb";
}

Status validate_kb_name(std::string_view name) {
  auto bad = [&](std::string_view why) {
    std::string shown;
    for (char c : name.substr(0, 64)) shown += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    return Status::invalid_argument(fmt::format("invalid knowledge base name \"{}\": {}", shown, why));
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 64) return bad("longer than 64 characters");
  if (!std::isalnum(static_cast<unsigned char>(name[0]))) return bad("must start with a letter or digit");
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '.' || c == '_' || c == '-'))
      return bad("only letters, digits, '.', '_' and '-' are allowed");
  }
  if (name.find("..") != std::string_view::npos) return bad("\"..\" is not allowed");
  return Status::ok();
}

Result<std::string> kb_dir(const std::string& root, std::string_view name) {
  SOV_RETURN_IF_ERROR(validate_kb_name(name));
  return root + "/" + std::string(name);
}

std::vector<std::string> list_kbs(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(root, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!validate_kb_name(name)) continue;
    std::error_code ec2;
    if (std::filesystem::is_regular_file(it->path() / "kb.sqlite", ec2)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status remove_kb(const std::string& root, std::string_view name) {
  SOV_ASSIGN_OR_RETURN(std::string dir, kb_dir(root, name));
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir + "/kb.sqlite", ec))
    return Status::not_found(fmt::format("knowledge base \"{}\" not found", name));
  // A symlink named like a base is removed as a link, never followed.
  std::filesystem::remove_all(dir, ec);
  if (ec) return Status::io_error(fmt::format("cannot remove {}: {}", dir, ec.message()));
  return Status::ok();
}

}  // namespace sov::kb
