// libFuzzer target: parses and renders arbitrary template text against a small fixed chat
// context. Any input must end in output or an error Status: no crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chat/jinja_template.h"

namespace {

const nlohmann::ordered_json& context() {
  static const nlohmann::ordered_json kContext = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "Hi {{ not a tag }} \u00e9\ud83d\ude00"},
      {"role": "assistant", "content": null,
       "tool_calls": [{"id": "c1", "type": "function",
                       "function": {"name": "get", "arguments": {"q": [1, 2.5, true, null]}}}]},
      {"role": "tool", "tool_call_id": "c1", "content": "42"}
    ],
    "tools": [{"type": "function", "function": {"name": "get", "parameters": {"type": "object"}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>", "documents": null
  })");
  return kContext;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  auto tmpl = sov::chat::JinjaTemplate::parse(source);
  if (!tmpl.is_ok()) return 0;
  sov::chat::RenderOptions options;
  options.limits.max_steps = 200000;
  options.limits.max_output_bytes = 1 << 20;
  std::tm now{};
  now.tm_year = 124;
  now.tm_mon = 6;
  now.tm_mday = 26;
  options.now = now;
  (void)tmpl->render(context(), options);
  return 0;
}
