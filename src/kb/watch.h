// Watch mode: keeps a knowledge base in step with folders as they change (inotify).
//
// Runs add_paths() once, then waits for changes under the paths (create, write, delete,
// move, in every sub-folder, new ones included) and, once they have settled for
// `debounce_ms`, runs add_paths() again — incremental, so only changed files are read.
// Returns when `stop` becomes true (checked at least every 200 ms) or on an error.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "kb/indexer.h"

namespace sov::kb {

Status watch_paths(KnowledgeBase& kb, const std::vector<std::string>& paths, Embedder* embedder,
                   const AddOptions& options, const std::function<void(const AddSummary&)>& on_pass,
                   const std::atomic<bool>& stop, int debounce_ms = 300);

}  // namespace sov::kb
