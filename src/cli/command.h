// Subcommand registry of the `sov` executable. Each cmd_<name>.cpp registers one
// subcommand at static-initialisation time with SOV_REGISTER_COMMAND; main() builds the
// CLI11 app from the registry, so adding a command never edits a central switch.
//
// A command's run function returns the process exit code: 0 on success, 1 on a refused
// input (after printing a one-line error to stderr), 2 on a usage error.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace sov::cli {

struct Command {
  std::string name;
  std::string help;
  // Declares options on `sub` and returns the function run when the command is chosen.
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

bool register_command(Command command);

// Prints "error: <message>" to stderr and returns 1.
int fail(const std::string& message);

}  // namespace sov::cli

#define SOV_REGISTER_COMMAND(ident, ...) \
  static const bool sov_command_registered_##ident = ::sov::cli::register_command(__VA_ARGS__)
