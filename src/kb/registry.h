// Where knowledge bases live and what they may be called: $SOV_HOME/kb/<name>/ (SOV_HOME
// defaults to ~/.sovereign). Names become folder names, so they are validated strictly:
// 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit (no "..", no "/", no
// hidden folders, no control characters).
//
// Pure functions over the file system; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/config.h"

namespace sov::kb {

// $SOV_HOME/kb, or $HOME/.sovereign/kb.
std::string kb_root(const store::EnvLookup& env);

Status validate_kb_name(std::string_view name);

// root/name after validating the name.
Result<std::string> kb_dir(const std::string& root, std::string_view name);

// Names of the bases under root (folders holding a kb.sqlite), sorted.
std::vector<std::string> list_kbs(const std::string& root);

// Deletes a base's folder; kNotFound when it does not exist.
Status remove_kb(const std::string& root, std::string_view name);

}  // namespace sov::kb
