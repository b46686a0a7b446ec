// libFuzzer target: the API's JSON request bodies. The bytes are a request body run through
// what the routes do with it before any model is involved: parse_json_body (object
// required, bounded nesting), the typed field getters, Ollama `options`, OpenAI sampling
// fields, `stop`, chat `messages` and `tools` validation, and serialising the body back
// (chat templates' tojson does). Nothing may crash; whatever parses must re-parse equal.
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "server/http_util.h"
#include "server/options.h"
#include "server/prompt.h"

using sov::server::ojson;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return 0;
  httplib::Request req;
  req.body.assign(reinterpret_cast<const char*>(data), size);
  auto body = sov::server::parse_json_body(req);
  if (!body.is_ok()) return 0;
  if (!body->is_object()) __builtin_trap();

  (void)sov::server::get_string(*body, "model");
  (void)sov::server::get_string(*body, "prompt");
  (void)sov::server::get_bool(*body, "stream");
  (void)sov::server::get_number(*body, "temperature");
  (void)sov::server::get_int(*body, "max_tokens", 0, 1 << 20);
  (void)sov::server::get_array(*body, "input");
  if (auto options = sov::server::get_object(*body, "options"); options.is_ok() && options->has_value()) {
    auto gen = sov::server::ollama_defaults();
    (void)sov::server::apply_ollama_options(**options, &gen);
  }
  auto gen = sov::server::openai_defaults();
  (void)sov::server::apply_openai_params(*body, &gen);
  if (body->contains("stop")) (void)sov::server::parse_stop((*body)["stop"]);
  if (body->contains("messages")) (void)sov::server::validate_messages((*body)["messages"]);
  if (body->contains("tools")) (void)sov::server::tool_names((*body)["tools"]);

  const std::string dumped = body->dump(-1, ' ', false, ojson::error_handler_t::replace);
  ojson again = ojson::parse(dumped, nullptr, false);
  if (again.is_discarded()) __builtin_trap();
  return 0;
}
