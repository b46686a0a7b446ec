// Indexer: brings a knowledge base in step with files and folders on disk.
//
// add_paths() walks each PATH (folders recursively; .gitignore and .sovignore honoured;
// .git/.hg/.svn skipped; symlinks below a root not followed), then for every file:
//   - same size and modification time as recorded: nothing to do (like git's stat check);
//   - same content hash as recorded: only the time is updated;
//   - new path whose content matches a recorded document that is gone from disk (or from
//     the walked folders): a rename — the path is updated, nothing re-embedded;
//   - otherwise read, classify, extract, chunk, embed and store, in one transaction.
// Documents recorded under a walked root that no longer exist (or are now ignored, binary
// or too large) are removed. Every file left out is reported with a reason.
//
// Crash safety: each file is one transaction; killed at any moment and run again, the base
// ends up complete with nothing duplicated. Vectors are written when an Embedder is given
// (it must be the base's model); without one the base stays keyword-only.
//
// One writer at a time per base is the expected use; a second writer waits on SQLite's lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "kb/embedder.h"
#include "kb/knowledge_base.h"

namespace sov::kb {

struct SkippedFile {
  std::string path;
  std::string reason;
};

struct AddSummary {
  int64_t added = 0;
  int64_t updated = 0;
  int64_t renamed = 0;
  int64_t unchanged = 0;
  int64_t removed = 0;
  int64_t chunks = 0;  // chunks written
  int64_t bytes = 0;   // bytes read and indexed
  std::vector<SkippedFile> skipped;
};

struct AddProgress {
  std::string phase;  // "scanning", "indexing", "removing"
  int64_t done = 0;
  int64_t total = 0;
  std::string path;
};

struct AddOptions {
  int64_t max_file_bytes = 0;  // 0: the base's setting
  // Polled between files; when it returns true the run stops early (what is done is kept).
  std::function<bool()> cancelled;
  std::function<void(const AddProgress&)> progress;
};

Result<AddSummary> add_paths(KnowledgeBase& kb, const std::vector<std::string>& paths, Embedder* embedder,
                             const AddOptions& options = {});

// Indexes raw text as a document named `name` (stored as path "text:<name>"); replaces an
// earlier document of that name.
Result<AddSummary> add_text(KnowledgeBase& kb, const std::string& name, const std::string& text,
                            Embedder* embedder);

// Embeds every chunk without a current vector (after a model change), in batches, each
// committed on its own: interrupted, it resumes where it stopped. Returns chunks embedded.
Result<int64_t> embed_stale(KnowledgeBase& kb, Embedder& embedder, const AddOptions& options = {});

// Absolute, lexically normalised path (symlinks not resolved).
std::string normalise_path(const std::string& path);

}  // namespace sov::kb
