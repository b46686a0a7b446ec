// Resumable, verified download of one blob into the store's blobs folder.
//
// The blob is fetched into "<blob>-partial" in byte-range parts (several at once for large
// blobs); "<blob>-partial.json" records how many bytes of each part are on disk (saved
// after the data is flushed), so an interrupted pull resumes where it stopped and never
// fetches completed bytes again. Once every part is complete the file is hashed; only a
// SHA-256 match is renamed into place as "sha256-<hex>". A mismatch deletes the partial
// data and fails with kCorrupt. Transport failures and stalls are retried with exponential
// backoff; when retries run out, or on cancel, the partial file and its state are kept for
// the next pull. "<blob>-partial.lock" keeps two pulls of the same blob from colliding.
//
// Thread-safe: calls for different blobs may run concurrently; the same blob is serialised
// by the lock file (also across processes).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "store/manifest.h"
#include "store/registry.h"

namespace sov::store {

struct DownloadSettings {
  uint64_t part_size = 64u << 20;  // blobs larger than this are fetched in parts
  int max_parallel = 4;            // parts in flight at once
  int max_retries = 6;             // consecutive failed attempts of a part without progress
  int retry_backoff_ms = 1000;     // first wait; doubles per failure, capped at 30 s
  std::function<bool()> cancelled;
};

// Bytes of `layer` already downloaded into a partial file of `blobs_dir` (0 if none).
uint64_t partial_bytes(const std::string& blobs_dir, const Layer& layer);

// Downloads `layer` into `blobs_dir` unless it is already there. `on_progress` receives
// the number of bytes on disk so far (from any thread, never concurrently).
Status download_blob(RegistryClient& client, const std::string& blobs_dir, const Layer& layer,
                     const DownloadSettings& settings, const std::function<void(uint64_t)>& on_progress);

}  // namespace sov::store
