// `sov template render --template FILE.jinja --messages MESSAGES.json [--tools TOOLS.json]
//  [--add-generation-prompt] [--bos TEXT] [--eos TEXT] [--var NAME=JSON]... [--now YYYY-MM-DD]`:
// renders a chat template the way transformers' apply_chat_template does. Prints the result
// and exits 0; a template that raises prints its error to stderr and exits 2; unreadable
// inputs exit 1.
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "chat/chat_template.h"
#include "cli/command.h"

namespace sov::cli {
namespace {

using nlohmann::ordered_json;

struct TemplateOptions {
  std::string template_path, messages_path, tools_path, bos, eos, now;
  std::vector<std::string> vars;
  bool add_generation_prompt = false;
};

Result<ordered_json> read_json(const std::string& path) {
  SOV_ASSIGN_OR_RETURN(std::string text, read_file(path));
  ordered_json j = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid_argument(path + ": not valid JSON");
  return j;
}

int run_render(const TemplateOptions& o) {
  auto text = read_file(o.template_path);
  if (!text) return fail(text.status().message());
  auto messages = read_json(o.messages_path);
  if (!messages) return fail(messages.status().message());
  // Accept a bare list of messages or an object with "messages" (and optionally "tools").
  ordered_json tools = nullptr;
  if (messages->is_object()) {
    if (messages->contains("tools")) tools = (*messages)["tools"];
    ordered_json list = (*messages)["messages"];
    *messages = list;
  }
  if (!messages->is_array()) return fail(o.messages_path + ": expected a JSON list of messages");
  if (!o.tools_path.empty()) {
    auto t = read_json(o.tools_path);
    if (!t) return fail(t.status().message());
    tools = *t;
  }
  ordered_json extra = ordered_json::object();
  for (const std::string& v : o.vars) {
    auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0) return fail("--var wants NAME=JSON, got '" + v + "'");
    ordered_json value = ordered_json::parse(v.substr(eq + 1), nullptr, false);
    if (value.is_discarded()) return fail("--var " + v.substr(0, eq) + ": the value is not valid JSON");
    extra[v.substr(0, eq)] = value;
  }
  chat::RenderOptions options;
  if (!o.now.empty()) {
    std::tm tm{};
    if (strptime(o.now.c_str(), "%Y-%m-%d", &tm) == nullptr) return fail("--now wants YYYY-MM-DD");
    options.now = tm;
  }
  auto out = chat::render_chat(*text, *messages, tools, o.add_generation_prompt, o.bos, o.eos, extra, options);
  if (!out) {
    std::fprintf(stderr, "error: %s\n", out.status().message().c_str());
    return 2;
  }
  std::fwrite(out->data(), 1, out->size(), stdout);
  return 0;
}

SOV_REGISTER_COMMAND(
    template_cmd, Command{"template", "Chat template tools",
                          [](CLI::App& sub) -> std::function<int()> {
                            auto o = std::make_shared<TemplateOptions>();
                            sub.require_subcommand(1);
                            CLI::App* render = sub.add_subcommand("render", "Render a chat template");
                            render->add_option("--template", o->template_path, "Jinja template file")->required();
                            render->add_option("--messages", o->messages_path, "JSON list of messages")->required();
                            render->add_option("--tools", o->tools_path, "JSON list of tools");
                            render->add_flag("--add-generation-prompt", o->add_generation_prompt,
                                             "end with the assistant's turn header");
                            render->add_option("--bos", o->bos, "bos_token");
                            render->add_option("--eos", o->eos, "eos_token");
                            render->add_option("--var", o->vars, "extra variable NAME=JSON (repeatable)");
                            render->add_option("--now", o->now, "date strftime_now sees (YYYY-MM-DD)");
                            return [o] { return run_render(*o); };
                          }});

}  // namespace
}  // namespace sov::cli
