// `sov`: the command-line entry point. Subcommands live in cmd_*.cpp (see command.h).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "base/log.h"
#include "cli/command.h"
#include "sovereign/version.h"

namespace sov::cli {
namespace {
std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}
}  // namespace

bool register_command(Command command) {
  registry().push_back(std::move(command));
  return true;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

}  // namespace sov::cli

int main(int argc, char** argv) {
  CLI::App app{"Sovereign: run open-weight models on your own machine"};
  app.set_version_flag("--version", SOV_VERSION_STRING);
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "debug, info, warn, error or off")->capture_default_str();

  std::vector<std::function<int()>> runs;
  auto& commands = sov::cli::registry();
  std::sort(commands.begin(), commands.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, size_t>> subs;
  for (size_t i = 0; i < commands.size(); ++i) {
    CLI::App* sub = app.add_subcommand(commands[i].name, commands[i].help);
    runs.push_back(commands[i].setup(*sub));
    subs.emplace_back(sub, i);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  sov::log::Level level;
  if (!sov::log::parse_level(log_level, &level)) return sov::cli::fail("unknown log level: " + log_level);
  sov::log::set_level(level);
  for (auto& [sub, i] : subs) {
    if (sub->parsed()) return runs[i]();
  }
  return 2;
}
