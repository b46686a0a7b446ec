// Embedding routes: Ollama's POST /api/embed and legacy POST /api/embeddings, OpenAI's
// POST /v1/embeddings. Any model embeds (encoders and decoders, model_manager.h).
//
// Every request tokenizes its inputs, applies the context rule (cut when `truncate`, the
// default as in Ollama; else 400 naming the input), then runs them in chunks of whole inputs
// of at most kChunkTokens tokens (a longer single input runs alone). Each chunk is one
// forward pass and takes a turn on the manager's ComputeGate, so chat streams keep advancing
// between the chunks of a large embedding request. Between chunks the client's connection is
// checked: a request whose client left stops early.
//
// Extensions beyond the two APIs (all optional): "pooling" ("mean", "cls", "last") overrides
// the model's pooling; "truncate" on /v1/embeddings; "options" ({"num_ctx": N} lowers the
// context for truncation) on /v1/embeddings as on /api/embed.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstring>

#include "server/connection_watch.h"
#include "server/duration.h"
#include "server/http_util.h"
#include "server/kb_embedder.h"
#include "server/options.h"
#include "server/server.h"

namespace sov::server {
namespace {

using Clock = std::chrono::steady_clock;

// As OpenAI: inputs per request.
constexpr size_t kMaxInputs = 2048;

struct EmbedRequest {
  std::string model;
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> token_inputs;  // OpenAI token arrays (then texts is empty)
  bool tokens = false;
  bool truncate = true;
  bool normalize = true;
  int32_t dimensions = 0;
  int32_t num_ctx = 0;
  std::optional<engine::Pooling> pooling;
  KeepAlive keep_alive;
};

struct EmbedOutcome {
  std::vector<std::vector<float>> embeddings;
  int64_t prompt_tokens = 0;
  int64_t load_ns = 0;
};

int64_t ns_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

// The fields every endpoint shares: model, keep_alive, truncate, options, dimensions, pooling.
Status parse_common(const ojson& body, const ServerConfig& config, EmbedRequest* r) {
  SOV_ASSIGN_OR_RETURN(auto model, get_string(body, "model"));
  if (!model || model->empty()) return Status::invalid_argument("field \"model\" is required");
  r->model = *model;
  r->keep_alive = config.keep_alive;
  if (auto it = body.find("keep_alive"); it != body.end() && !it->is_null()) {
    SOV_ASSIGN_OR_RETURN(r->keep_alive, parse_keep_alive(*it));
  }
  SOV_ASSIGN_OR_RETURN(auto truncate, get_bool(body, "truncate"));
  r->truncate = truncate.value_or(true);
  SOV_ASSIGN_OR_RETURN(auto options, get_object(body, "options"));
  if (options) {
    GenOptions gen = ollama_defaults();  // type-checks every known option
    SOV_RETURN_IF_ERROR(apply_ollama_options(*options, &gen));
    r->num_ctx = gen.num_ctx;
  }
  SOV_ASSIGN_OR_RETURN(auto dims, get_int(body, "dimensions", 1, 1 << 20));
  r->dimensions = static_cast<int32_t>(dims.value_or(0));
  SOV_ASSIGN_OR_RETURN(auto pooling, get_string(body, "pooling"));
  if (pooling) {
    auto p = engine::parse_pooling(*pooling);
    if (!p || *p == engine::Pooling::kNone) {
      return Status::invalid_argument("field \"pooling\" must be \"mean\", \"cls\" or \"last\"");
    }
    r->pooling = *p;
  }
  return Status::ok();
}

// Runs the request through the model manager: lease, tokenize, chunks under the gate.
Result<EmbedOutcome> run_embed(ServerState& s, const EmbedRequest& r, const httplib::Request& http_req) {
  SOV_ASSIGN_OR_RETURN(auto lease, s.manager.acquire_embedding(r.model, r.keep_alive));
  EmbedOutcome out;
  out.load_ns = lease->load_ns();
  SOV_ASSIGN_OR_RETURN(auto model, s.manager.embedder(lease->runner()));
  const size_t n_inputs = r.tokens ? r.token_inputs.size() : r.texts.size();
  if (n_inputs == 0) return out;  // a load request

  const int32_t ctx = r.num_ctx > 0 ? std::min(r.num_ctx, model->n_ctx()) : model->n_ctx();
  std::vector<std::vector<int32_t>> inputs;
  if (r.tokens) {
    inputs = r.token_inputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].size() <= static_cast<size_t>(ctx)) continue;
      if (!r.truncate) {
        return Status::out_of_range(
            fmt::format("input {} has {} tokens, more than the context of {} (set truncate to cut it)", i,
                        inputs[i].size(), ctx));
      }
      inputs[i].resize(static_cast<size_t>(ctx));
    }
  } else {
    SOV_ASSIGN_OR_RETURN(inputs, model->tokenize_all(r.texts, r.truncate, ctx));
  }
  // Checked here, with the request's input numbers (the engine sees chunks).
  const int32_t n_vocab = model->tokenizer().n_vocab();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) {
      return Status::invalid_argument(
          fmt::format("input {} has no tokens (an empty text for a model that adds none)", i));
    }
    for (int32_t id : inputs[i]) {
      if (id >= n_vocab) {
        return Status::invalid_argument(
            fmt::format("input {}: token id {} is outside the vocabulary (0..{})", i, id, n_vocab - 1));
      }
    }
  }

  engine::EmbedOptions options;
  options.normalize = r.normalize;
  options.pooling = r.pooling;
  options.dimensions = r.dimensions;
  // The connection is watched from the second micro-batch on (most requests have one).
  ConnectionWatch watch;
  bool watching = false;
  auto closed = [&] {
    if (!watching) {
      watch = ConnectionWatch::for_request(http_req);
      watching = true;
    }
    return watch.closed();
  };
  SOV_ASSIGN_OR_RETURN(engine::EmbedResult res, embed_in_turns(s.manager.gate(), *model, std::move(inputs),
                                                               options, embed_chunk_tokens(s), closed));
  for (const auto& e : res.embeddings) {
    for (float v : e) {
      if (!std::isfinite(v)) return Status::internal("the model produced a non-finite embedding value");
    }
  }
  out.embeddings = std::move(res.embeddings);
  out.prompt_tokens += res.total_tokens;
  return out;
}

// [[v, ...], ...] with each float in its shortest exact form.
void append_vector(std::string* out, const std::vector<float>& v) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out->push_back(',');
    fmt::format_to(std::back_inserter(*out), "{}", v[i]);
  }
  out->push_back(']');
}

std::string base64_floats(const std::vector<float>& v) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> bytes(v.size() * 4);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t u;
    std::memcpy(&u, &v[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<uint8_t>(u >> (8 * b));  // little-endian
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t n = (uint32_t{bytes[i]} << 16) | (i + 1 < bytes.size() ? uint32_t{bytes[i + 1]} << 8 : 0) |
                       (i + 2 < bytes.size() ? uint32_t{bytes[i + 2]} : 0);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kAlphabet[n & 63] : '=');
  }
  return out;
}

void send_body(httplib::Response& res, std::string body) {
  res.status = 200;
  res.set_content(std::move(body), "application/json; charset=utf-8");
}

// --- Ollama ---------------------------------------------------------------------------

// POST /api/embed {model, input: string | [string], truncate, options, keep_alive, dimensions}
void handle_embed(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  const auto start = Clock::now();
  auto body = parse_json_body(req);
  if (!body) return send_ollama_error(res, body.status());
  EmbedRequest r;
  if (Status st = parse_common(*body, s.config, &r); !st) return send_ollama_error(res, st);
  // As Ollama: a missing or empty input only loads the model.
  if (auto it = body->find("input"); it != body->end() && !it->is_null()) {
    if (it->is_string()) {
      if (!it->get<std::string>().empty()) r.texts.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const auto& v : *it) {
        if (!v.is_string())
          return send_ollama_error(res, 400, "field \"input\" must be a string or a list of strings");
        r.texts.push_back(v.get<std::string>());
      }
    } else {
      return send_ollama_error(res, 400, "field \"input\" must be a string or a list of strings");
    }
  }
  if (r.texts.size() > kMaxInputs) {
    return send_ollama_error(res, 400, fmt::format("at most {} inputs per request", kMaxInputs));
  }
  auto out = run_embed(s, r, req);
  if (!out) return send_ollama_error(res, out.status());
  std::string text = "{\"model\":" + json(r.model).dump() + ",\"embeddings\":[";
  for (size_t i = 0; i < out->embeddings.size(); ++i) {
    if (i) text += ',';
    append_vector(&text, out->embeddings[i]);
  }
  text += fmt::format("],\"total_duration\":{},\"load_duration\":{},\"prompt_eval_count\":{}}}",
                      ns_since(start), out->load_ns, out->prompt_tokens);
  send_body(res, std::move(text));
}

// POST /api/embeddings {model, prompt, options, keep_alive} -> {"embedding": [...]}: one
// input, not normalised (as Ollama's legacy endpoint).
void handle_embeddings_legacy(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  auto body = parse_json_body(req);
  if (!body) return send_ollama_error(res, body.status());
  EmbedRequest r;
  if (Status st = parse_common(*body, s.config, &r); !st) return send_ollama_error(res, st);
  r.normalize = false;
  auto prompt = get_string(*body, "prompt");
  if (!prompt) return send_ollama_error(res, prompt.status());
  if (prompt->has_value() && !(*prompt)->empty()) r.texts.push_back(**prompt);  // empty: a load request
  auto out = run_embed(s, r, req);
  if (!out) return send_ollama_error(res, out.status());
  std::string text = "{\"embedding\":";
  append_vector(&text, out->embeddings.empty() ? std::vector<float>() : out->embeddings[0]);
  text += "}";
  send_body(res, std::move(text));
}

// --- OpenAI ---------------------------------------------------------------------------

// `input`: a string, a list of strings, a list of token ids, or a list of lists of ids.
Status parse_openai_input(const ojson& body, EmbedRequest* r) {
  auto it = body.find("input");
  if (it == body.end() || it->is_null()) return Status::invalid_argument("field \"input\" is required");
  const char* kShape =
      "field \"input\" must be a string, a list of strings, or token ids (a list of integers or of lists of "
      "integers)";
  auto ids = [&](const ojson& list, std::vector<int32_t>* out) -> Status {
    if (list.empty()) return Status::invalid_argument("field \"input\" has an empty list of token ids");
    for (const auto& t : list) {
      if (!t.is_number_integer()) return Status::invalid_argument(kShape);
      const int64_t v = t.get<int64_t>();
      if (v < 0 || v > INT32_MAX)
        return Status::invalid_argument(fmt::format("token id {} is out of range", v));
      out->push_back(static_cast<int32_t>(v));
    }
    return Status::ok();
  };
  if (it->is_string()) {
    if (it->get<std::string>().empty()) return Status::invalid_argument("field \"input\" must not be empty");
    r->texts.push_back(it->get<std::string>());
    return Status::ok();
  }
  if (!it->is_array()) return Status::invalid_argument(kShape);
  if (it->empty()) return Status::invalid_argument("field \"input\" must not be an empty list");
  if (it->size() > kMaxInputs) {
    return Status::invalid_argument(fmt::format("field \"input\" has more than {} items", kMaxInputs));
  }
  const ojson& first = it->front();
  if (first.is_string()) {
    for (const auto& v : *it) {
      if (!v.is_string()) return Status::invalid_argument(kShape);
      if (v.get<std::string>().empty()) {
        return Status::invalid_argument("field \"input\" must not contain empty strings");
      }
      r->texts.push_back(v.get<std::string>());
    }
  } else if (first.is_number_integer()) {
    r->tokens = true;
    r->token_inputs.emplace_back();
    SOV_RETURN_IF_ERROR(ids(*it, &r->token_inputs.back()));
  } else if (first.is_array()) {
    r->tokens = true;
    for (const auto& v : *it) {
      if (!v.is_array()) return Status::invalid_argument(kShape);
      r->token_inputs.emplace_back();
      SOV_RETURN_IF_ERROR(ids(v, &r->token_inputs.back()));
    }
  } else {
    return Status::invalid_argument(kShape);
  }
  return Status::ok();
}

// POST /v1/embeddings {model, input, encoding_format, dimensions, user}
void handle_openai_embeddings(ServerState& s, const httplib::Request& req, httplib::Response& res) {
  auto body = parse_json_body(req);
  if (!body) return send_openai_error(res, body.status());
  EmbedRequest r;
  if (Status st = parse_common(*body, s.config, &r); !st) return send_openai_error(res, st);
  if (Status st = parse_openai_input(*body, &r); !st) return send_openai_error(res, st);
  auto format = get_string(*body, "encoding_format");
  if (!format) return send_openai_error(res, format.status());
  const std::string encoding = format->value_or("float");
  if (encoding != "float" && encoding != "base64") {
    return send_openai_error(res, 400, "field \"encoding_format\" must be \"float\" or \"base64\"");
  }
  auto out = run_embed(s, r, req);
  if (!out) return send_openai_error(res, out.status());
  std::string text = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < out->embeddings.size(); ++i) {
    if (i) text += ',';
    text += "{\"object\":\"embedding\",\"index\":" + std::to_string(i) + ",\"embedding\":";
    if (encoding == "base64") {
      text += '"' + base64_floats(out->embeddings[i]) + '"';
    } else {
      append_vector(&text, out->embeddings[i]);
    }
    text += '}';
  }
  text += "],\"model\":" + json(r.model).dump() +
          fmt::format(",\"usage\":{{\"prompt_tokens\":{0},\"total_tokens\":{0}}}}}", out->prompt_tokens);
  send_body(res, std::move(text));
}

}  // namespace

void register_embed_routes(HttpServer& http, ServerState& state) {
  http.Post("/api/embed",
            [&state](const httplib::Request& req, httplib::Response& res) { handle_embed(state, req, res); });
  http.Post("/api/embeddings", [&state](const httplib::Request& req, httplib::Response& res) {
    handle_embeddings_legacy(state, req, res);
  });
  http.Post("/v1/embeddings", [&state](const httplib::Request& req, httplib::Response& res) {
    handle_openai_embeddings(state, req, res);
  });
}

}  // namespace sov::server
