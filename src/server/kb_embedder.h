// Embeddings for the server's knowledge-base routes, on the same footing as /api/embed:
// every forward pass takes a turn on the ModelManager's ComputeGate, so indexing a folder
// and answering chat share the cores instead of fighting over them.
//
// embed_in_turns: a request's token inputs in micro-batches of about `chunk_tokens`
// tokens, one gate turn per micro-batch; `cancelled` is asked before every micro-batch
// after the first (a closed connection, a cancelled job).
//
// kb_embedder: the kb::Embedder for a base's embedding model. A model the manager resolves
// (store name, loose file, --model file) is leased for the embedder's lifetime: it shows in
// /api/ps, is not unloaded while in use and then stays loaded for the default keep-alive.
// A .gguf path the base was created with on the command line (which the network-facing
// resolver refuses by design) is loaded once outside the manager and cached in `local`,
// but its forward passes take gate turns too. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/encoder/embedding_model.h"
#include "kb/embedder.h"
#include "scheduler/compute_gate.h"

namespace sov::server {

struct ServerState;

Result<engine::EmbedResult> embed_in_turns(scheduler::ComputeGate& gate, engine::EmbeddingModel& model,
                                           std::vector<std::vector<int32_t>> inputs,
                                           const engine::EmbedOptions& options, int64_t chunk_tokens,
                                           const std::function<bool()>& cancelled = {});

// The tokens per micro-batch for this server (its n_batch, at least 512).
int64_t embed_chunk_tokens(const ServerState& state);

// Embedders loaded from paths, shared by the requests of one server.
struct LocalEmbedders {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<kb::Embedder>> by_path;
};

// Null for an empty model name (a keyword-only base).
Result<std::shared_ptr<kb::Embedder>> kb_embedder(ServerState& state, LocalEmbedders& local,
                                                  const std::string& model);

}  // namespace sov::server
