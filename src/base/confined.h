// Running untrusted work (a third-party parser on a stranger's file) in a child process with
// a memory and a time limit, so that a decompression bomb, a runaway loop or a crash in it
// costs one error instead of the whole server.
//
// run_confined forks; the child runs `work` and sends back its result through a pipe, then
// leaves with _exit (no destructors, no atexit handlers). The parent watches the child:
// its resident memory *growth* since the fork (pages shared with the parent do not count),
// the wall-clock time, and the size of the result. Past any limit the child is killed with
// SIGKILL and the caller gets an error saying which limit. A child that crashes is reported
// as kInternal with the signal. The limits are checked by polling (every 20 ms), so memory
// may overshoot by what the child allocates in one interval.
//
// Because the child of a multi-threaded process may only rely on what fork leaves
// consistent, `work` must not use locks another thread of this process could hold (glibc's
// malloc and stdio are safe; keep third-party libraries that `work` uses out of the parent).
// The child closes every inherited file descriptor except the result pipe and stderr, and
// dies with the parent. Calls from several threads are safe and run one at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "base/status.h"

namespace sov {

struct ConfineLimits {
  size_t max_memory_bytes = size_t{512} << 20;  // growth of the child's resident memory
  size_t max_result_bytes = size_t{64} << 20;
  int timeout_ms = 120'000;
};

// Runs `work` in a child process under `limits`. `what` names the work in error messages
// ("PDF extraction"). Thread-safe: concurrent calls run concurrent children.
Result<std::string> run_confined(const std::string& what, const std::function<Result<std::string>()>& work,
                                 const ConfineLimits& limits = {});

}  // namespace sov
