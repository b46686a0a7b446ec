// Store::create: a new manifest from a GGUF file, an uploaded blob or another model, with
// the template/system/parameters/messages/licenses layers of a Modelfile.
#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/thread_pool.h"
#include "gguf/file.h"
#include "quant/model_quantize.h"
#include "store/details.h"
#include "store/fs_util.h"
#include "store/params.h"
#include "store/store.h"

namespace sov::store {
namespace {

// "~/x" -> the user's home directory from the password database (not the environment).
std::string expand_home(const std::string& path) {
  if (!path.starts_with("~/")) return path;
  struct passwd pw {};
  struct passwd* result = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &result) != 0 || !result) return path;
  return std::string(pw.pw_dir) + path.substr(1);
}

std::string config_json(const ModelDetails& d, const std::vector<Layer>& layers) {
  nlohmann::ordered_json j;
  j["model_format"] = "gguf";
  j["model_family"] = d.family;
  j["model_families"] =
      d.family.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json::array({d.family});
  j["model_type"] = d.parameter_size;
  j["file_type"] = d.quantization_level;
  j["architecture"] = "amd64";
  j["os"] = "linux";
  j["rootfs"] = {{"type", "layers"}, {"diff_ids", nlohmann::ordered_json::array()}};
  for (const auto& l : layers) j["rootfs"]["diff_ids"].push_back(l.digest.str());
  return j.dump();
}

// Quantizes `path` into a new blob of `blobs_dir`; returns its model layer.
Result<Layer> quantize_into_store(const std::string& blobs_dir, const std::string& path,
                                  quant::FileType type) {
  const std::string tmp = unique_temp_name(blobs_dir, "quantize");
  ThreadPool pool;
  quant::QuantizeOptions qo;
  qo.type = type;
  qo.pool = &pool;
  Status s = quant::quantize_model(path, tmp, qo);
  uint64_t size = 0;
  Result<Digest> digest = s.is_ok() ? sha256_file(tmp, &size) : Result<Digest>(s.with_context("quantizing"));
  if (!digest) {
    ::unlink(tmp.c_str());
    return digest.status();
  }
  const std::string final_path = blobs_dir + "/" + digest->file_name();
  if (is_regular_file(final_path)) {
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::io_error(final_path + ": rename failed: " + std::strerror(errno));
  }
  return Layer{std::string(kMediaModel), *digest, size, ""};
}

// Copies a GGUF file into the store through `writer`, hashing as it goes.
template <typename Emit>
Result<Layer> copy_into_store(BlobWriter& writer, const std::string& path, Emit& emit,
                              const std::function<bool()>& cancelled) {
  int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::io_error(path + ": " + std::strerror(errno));
  uint64_t total = 0;
  is_regular_file(path, &total);
  std::vector<char> buf(4 << 20);
  Status s;
  for (;;) {
    if (cancelled()) {
      s = Status::cancelled("create cancelled");
      break;
    }
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Status::io_error(path + ": read failed: " + std::strerror(errno));
      break;
    }
    if (n == 0) break;
    s = writer.write(buf.data(), static_cast<size_t>(n));
    if (!s) break;
    emit(Progress{"copying model file", "", total, writer.bytes_written()});
  }
  ::close(in);
  SOV_RETURN_IF_ERROR(s);
  const uint64_t size = writer.bytes_written();
  SOV_ASSIGN_OR_RETURN(Digest digest, writer.commit(Digest()));
  return Layer{std::string(kMediaModel), digest, size, ""};
}

}  // namespace

Status Store::create(std::string_view text, const CreateRequest& req, const ProgressFn& progress,
                     const std::atomic<bool>* cancel) {
  SOV_ASSIGN_OR_RETURN(ModelName name, parse_model_name(text));
  std::function<bool()> cancelled = [cancel] { return cancel != nullptr && cancel->load(); };
  auto emit = [&](Progress p) {
    if (progress) progress(p);
  };
  std::optional<quant::FileType> quantize;
  if (!req.quantize.empty()) {
    quantize = quant::parse_file_type(req.quantize);
    if (!quantize)
      return Status::invalid_argument(fmt::format("unknown quantization type \"{}\"", req.quantize));
  }
  if (req.from.empty() == req.from_blob.empty()) {
    return Status::invalid_argument(
        "give exactly one source: FROM a model name or GGUF file, or a blob digest");
  }
  SOV_RETURN_IF_ERROR(make_dirs(blobs_dir()));
  SOV_ASSIGN_OR_RETURN(FileLock store_lock,
                       FileLock::acquire(lock_path(), FileLock::Mode::kShared, cancelled));

  // The model layer and whatever the base model brings.
  Layer model;
  model.media_type = std::string(kMediaModel);
  std::string model_path;  // the GGUF to import (a file) or already a blob
  bool model_is_blob = false;
  std::vector<Layer> extra_layers;  // projector/adapter layers of a base model, kept as they are
  ResolvedModel base;               // fields inherited from a base model
  emit(status_event("parsing model source"));

  if (!req.from_blob.empty()) {
    auto path = find_blob(req.from_blob);
    if (!path)
      return Status::not_found(fmt::format("blob {} not found; upload it first", req.from_blob.str()));
    model_path = *path;
    model_is_blob = true;
  } else {
    std::string candidate = expand_home(req.from);
    if (!candidate.starts_with("/") && !req.base_dir.empty()) candidate = req.base_dir + "/" + candidate;
    const bool path_like = looks_like_path(req.from) || is_regular_file(candidate);
    if (path_like) {
      if (!req.allow_paths) {
        return Status::invalid_argument(
            "FROM a file path is not accepted here; upload the file as a blob first");
      }
      if (is_directory(candidate)) {
        return Status::unsupported(fmt::format(
            "FROM {}: a folder (safetensors) cannot be imported; convert it to GGUF first", req.from));
      }
      if (!is_regular_file(candidate))
        return Status::not_found(fmt::format("FROM {}: no such file", req.from));
      model_path = candidate;
    } else {
      auto resolved = resolve(req.from);
      if (!resolved) {
        if (resolved.status().code() == ErrorCode::kNotFound) {
          return Status::not_found(
              fmt::format("FROM {}: no such model; pull it first or give a path to a .gguf file", req.from));
        }
        return resolved.status();
      }
      base = std::move(resolved).value();
      model_path = base.gguf_path;
      model_is_blob = true;
      SOV_ASSIGN_OR_RETURN(Digest d, Digest::parse(base.model_digest));
      model.digest = d;
      // Keep the base's other binary layers (projectors, adapters) as they are.
      SOV_ASSIGN_OR_RETURN(std::optional<Found> found, find_manifest(*parse_model_name(base.full_name)));
      if (found) {
        auto m = parse_manifest(found->text);
        if (m) {
          for (const auto& l : m->layers) {
            if (l.media_type == kMediaProjector || l.media_type == kMediaAdapter) extra_layers.push_back(l);
          }
        }
      }
    }
  }

  // Every source must be a GGUF file we can read.
  auto opened = gguf::File::open(model_path);
  if (!opened)
    return Status::invalid_argument(fmt::format(
        "FROM {}: {}", req.from.empty() ? req.from_blob.str() : req.from, opened.status().message()));
  ModelDetails details = model_details(*opened);

  if (quantize) {
    emit(status_event(fmt::format("quantizing {} model to {}", details.quantization_level,
                                  quant::file_type_name(*quantize))));
    SOV_ASSIGN_OR_RETURN(model, quantize_into_store(blobs_dir(), model_path, *quantize));
    auto requant = read_model_details(blobs_dir() + "/" + model.digest.file_name());
    if (requant) details = *requant;
  } else if (model_is_blob) {
    if (model.digest.empty()) model.digest = req.from_blob;
    if (!is_regular_file(model_path, &model.size)) return Status::not_found(model_path + ": missing");
    SOV_RETURN_IF_ERROR(ensure_blob_local(model.digest, model.size));
    emit(status_event("using existing layer " + model.digest.str()));
  } else {
    SOV_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, begin_blob());
    SOV_ASSIGN_OR_RETURN(model, copy_into_store(*writer, model_path, emit, cancelled));
    emit(status_event("creating new layer " + model.digest.str()));
  }

  for (const auto& l : extra_layers) SOV_RETURN_IF_ERROR(ensure_blob_local(l.digest, l.size));

  // Text layers: the request's values replace the base's.
  std::string template_text = req.template_text.value_or(base.template_text);
  std::string system = req.system.value_or(base.system);
  nlohmann::ordered_json params = base.params;
  if (req.params) {
    SOV_ASSIGN_OR_RETURN(nlohmann::ordered_json checked, normalize_params(*req.params));
    for (const auto& [k, v] : checked.items()) params[k] = v;
  }
  std::vector<ChatMessage> messages = req.messages.value_or(base.messages);
  for (const auto& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant") {
      return Status::invalid_argument(
          fmt::format("message role \"{}\" is not system, user or assistant", m.role));
    }
  }
  std::vector<std::string> licenses = req.licenses.value_or(base.licenses);

  std::vector<Layer> layers{model};
  layers.insert(layers.end(), extra_layers.begin(), extra_layers.end());
  auto add_text_layer = [&](std::string_view media_type, const std::string& bytes) -> Status {
    SOV_ASSIGN_OR_RETURN(Digest d, put_blob_bytes(bytes));
    emit(status_event("creating new layer " + d.str()));
    layers.push_back({std::string(media_type), d, bytes.size(), ""});
    return Status::ok();
  };
  try {
    if (!template_text.empty()) SOV_RETURN_IF_ERROR(add_text_layer(kMediaTemplate, template_text));
    if (!system.empty()) SOV_RETURN_IF_ERROR(add_text_layer(kMediaSystem, system));
    if (!params.empty()) SOV_RETURN_IF_ERROR(add_text_layer(kMediaParams, params.dump()));
    if (!messages.empty()) {
      nlohmann::ordered_json j = nlohmann::ordered_json::array();
      for (const auto& m : messages) j.push_back({{"role", m.role}, {"content", m.content}});
      SOV_RETURN_IF_ERROR(add_text_layer(kMediaMessages, j.dump()));
    }
    for (const auto& l : licenses) SOV_RETURN_IF_ERROR(add_text_layer(kMediaLicense, l));
  } catch (const nlohmann::json::exception& e) {  // dump() of text that is not UTF-8
    return Status::invalid_argument(std::string("parameters or messages are not valid UTF-8: ") + e.what());
  }

  Manifest manifest;
  const std::string config = config_json(details, layers);
  SOV_ASSIGN_OR_RETURN(Digest config_digest, put_blob_bytes(config));
  manifest.config = {std::string(kConfigMediaType), config_digest, config.size(), ""};
  manifest.layers = std::move(layers);
  emit(status_event("writing manifest"));
  SOV_RETURN_IF_ERROR(write_manifest(name, serialize_manifest(manifest)));
  emit(status_event("success"));
  return Status::ok();
}

}  // namespace sov::store
