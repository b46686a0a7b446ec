// `sov inspect [--json] FILE.gguf`: prints a GGUF file's metadata (long arrays summarised)
// and its tensor table, or refuses the file with a one-line error and exit code 1.
#include <fmt/format.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "cli/command.h"
#include "gguf/file.h"

namespace sov::cli {
namespace {

using nlohmann::ordered_json;

constexpr size_t kArrayPreview = 8;

ordered_json value_to_json(const gguf::Value& v) {
  return std::visit(
      [](const auto& x) -> ordered_json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return utf8::sanitize(x);
        } else if constexpr (std::is_same_v<T, gguf::Array>) {
          ordered_json items = ordered_json::array();
          for (size_t i = 0; i < x.items.size() && i < kArrayPreview; ++i) items.push_back(value_to_json(x.items[i]));
          if (x.items.size() <= kArrayPreview) return items;
          return ordered_json{{"type", std::string(gguf::value_type_name(x.type))},
                              {"length", x.items.size()},
                              {"first", items}};
        } else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t>) {
          return static_cast<int>(x);
        } else if constexpr (std::is_same_v<T, float>) {
          return std::stod(fmt::format("{}", x));  // shortest decimal that reads back as this float
        } else {
          return x;
        }
      },
      v.v);
}

std::string value_to_text(const gguf::Value& v) {
  if (const auto* s = v.as_string()) {
    std::string text = utf8::sanitize(*s);
    if (text.size() > 120) text = text.substr(0, 117) + "...";
    return ordered_json(text).dump();
  }
  if (const auto* a = v.as_array()) {
    std::string preview;
    for (size_t i = 0; i < a->items.size() && i < kArrayPreview; ++i) {
      preview += (i ? ", " : "") + value_to_text(a->items[i]);
    }
    if (a->items.size() > kArrayPreview) preview += ", ...";
    return fmt::format("[{} x {}] [{}]", gguf::value_type_name(a->type), a->items.size(), preview);
  }
  return value_to_json(v).dump();
}

std::string dims_string(const gguf::TensorInfo& info) {
  std::string s;
  for (int i = 0; i < info.n_dims; ++i) s += (i ? " x " : "") + std::to_string(info.ne[i]);
  return s;
}

int print_json(const gguf::File& f) {
  ordered_json out;
  out["version"] = f.version();
  out["alignment"] = f.alignment();
  out["data_offset"] = f.data_offset();
  ordered_json meta = ordered_json::object();
  for (const auto& kv : f.metadata()) meta[kv.key] = value_to_json(kv.value);
  out["metadata"] = meta;
  ordered_json tensors = ordered_json::array();
  for (const auto& t : f.tensors()) {
    ordered_json shape = ordered_json::array();
    for (int i = 0; i < t.info.n_dims; ++i) shape.push_back(t.info.ne[i]);
    tensors.push_back({{"name", t.info.name},
                       {"type", std::string(gguf::type_name(t.info.type))},
                       {"shape", shape},
                       {"bytes", t.info.n_bytes},
                       {"offset", t.info.offset}});
  }
  out["tensors"] = tensors;
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

int print_text(const gguf::File& f) {
  std::printf("GGUF v%u, %zu metadata keys, %zu tensors, alignment %u, data at offset %llu\n\n", f.version(),
              f.metadata().size(), f.tensors().size(), f.alignment(),
              static_cast<unsigned long long>(f.data_offset()));
  std::printf("metadata:\n");
  for (const auto& kv : f.metadata()) {
    std::printf("  %-44s %s\n", kv.key.c_str(), value_to_text(kv.value).c_str());
  }
  std::printf("\ntensors:\n  %-40s %-6s %-22s %12s\n", "name", "type", "shape", "bytes");
  size_t total = 0;
  for (const auto& t : f.tensors()) {
    std::printf("  %-40s %-6s %-22s %12zu\n", t.info.name.c_str(), std::string(gguf::type_name(t.info.type)).c_str(),
                dims_string(t.info).c_str(), t.info.n_bytes);
    total += t.info.n_bytes;
  }
  std::printf("\n  %zu tensors, %zu bytes of tensor data\n", f.tensors().size(), total);
  return 0;
}

SOV_REGISTER_COMMAND(inspect, Command{"inspect", "Print a GGUF file's metadata and tensor table",
                                      [](CLI::App& sub) -> std::function<int()> {
                                        auto path = std::make_shared<std::string>();
                                        auto json = std::make_shared<bool>(false);
                                        sub.add_option("file", *path, "GGUF file")->required();
                                        sub.add_flag("--json", *json, "print JSON");
                                        return [path, json] {
                                          auto f = gguf::File::open(*path);
                                          if (!f) return fail(f.status().message());
                                          return *json ? print_json(*f) : print_text(*f);
                                        };
                                      }});

}  // namespace
}  // namespace sov::cli
