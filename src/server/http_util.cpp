#include "server/http_util.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <random>

namespace sov::server {
namespace {

const ojson* find(const ojson& obj, std::string_view key) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Status wrong_type(std::string_view key, const char* want) {
  return Status::invalid_argument(fmt::format("field \"{}\" must be {}", key, want));
}

}  // namespace

bool json_nesting_exceeds(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skip the escaped character
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

Result<ojson> parse_json_body(const httplib::Request& req) {
  if (req.body.empty()) return Status::invalid_argument("missing request body");
  // Nesting is bounded before parsing: the parser is iterative but dump() (tojson, logs)
  // and our own walkers recurse, and no API body needs more than a few levels.
  if (json_nesting_exceeds(req.body, kMaxJsonDepth)) {
    return Status::invalid_argument(fmt::format("request body nested deeper than {} levels", kMaxJsonDepth));
  }
  ojson body = ojson::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    // Parse again with exceptions for the position in the message.
    try {
      ojson unused = ojson::parse(req.body);
      (void)unused;
    } catch (const ojson::exception& e) {  // parse_error, and out_of_range for 1e999999
      return Status::invalid_argument(fmt::format("invalid JSON in request body: {}", e.what()));
    }
    return Status::invalid_argument("invalid JSON in request body");
  }
  if (!body.is_object()) return Status::invalid_argument("the request body must be a JSON object");
  return body;
}

Result<std::optional<std::string>> get_string(const ojson& obj, std::string_view key) {
  const ojson* v = find(obj, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return wrong_type(key, "a string");
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::optional<bool>> get_bool(const ojson& obj, std::string_view key) {
  const ojson* v = find(obj, key);
  if (!v) return std::optional<bool>();
  if (!v->is_boolean()) return wrong_type(key, "true or false");
  return std::optional<bool>(v->get<bool>());
}

Result<std::optional<double>> get_number(const ojson& obj, std::string_view key) {
  const ojson* v = find(obj, key);
  if (!v) return std::optional<double>();
  if (!v->is_number()) return wrong_type(key, "a number");
  double d = v->get<double>();
  if (!std::isfinite(d)) return wrong_type(key, "a finite number");
  return std::optional<double>(d);
}

Result<std::optional<int64_t>> get_int(const ojson& obj, std::string_view key, int64_t lo, int64_t hi) {
  const ojson* v = find(obj, key);
  if (!v) return std::optional<int64_t>();
  int64_t out;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return wrong_type(key, fmt::format("an integer in [{}, {}]", lo, hi).c_str());
    }
    out = v->get<int64_t>();
  } else if (v->is_number_float()) {
    double d = v->get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9e15) return wrong_type(key, "an integer");
    out = static_cast<int64_t>(d);
  } else {
    return wrong_type(key, "an integer");
  }
  if (out < lo || out > hi) {
    return Status::invalid_argument(
        fmt::format("field \"{}\" must be in [{}, {}], got {}", key, lo, hi, out));
  }
  return std::optional<int64_t>(out);
}

Result<std::optional<ojson>> get_object(const ojson& obj, std::string_view key) {
  const ojson* v = find(obj, key);
  if (!v) return std::optional<ojson>();
  if (!v->is_object()) return wrong_type(key, "an object");
  return std::optional<ojson>(*v);
}

Result<std::optional<ojson>> get_array(const ojson& obj, std::string_view key) {
  const ojson* v = find(obj, key);
  if (!v) return std::optional<ojson>();
  if (!v->is_array()) return wrong_type(key, "an array");
  return std::optional<ojson>(*v);
}

int http_status(const Status& status) {
  switch (status.code()) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
    case ErrorCode::kUnsupported: return 400;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kResourceExhausted: return 503;
    default: return 500;
  }
}

void send_json(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void send_json(httplib::Response& res, const ojson& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, ojson::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void send_ollama_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, json{{"error", message}}, status);
}

void send_ollama_error(httplib::Response& res, const Status& status) {
  send_ollama_error(res, http_status(status), status.message());
}

json openai_error_body(int status, const std::string& message, const char* code) {
  const char* type = status == 401   ? "authentication_error"
                     : status == 403 ? "permission_error"
                     : status == 404 ? "invalid_request_error"
                     : status < 500  ? "invalid_request_error"
                                     : "server_error";
  return json{{"error",
               {{"message", message},
                {"type", type},
                {"param", nullptr},
                {"code", code ? json(code) : json(nullptr)}}}};
}

void send_openai_error(httplib::Response& res, int status, const std::string& message, const char* code) {
  send_json(res, openai_error_body(status, message, code), status);
}

void send_openai_error(httplib::Response& res, const Status& status) {
  const int http = http_status(status);
  const char* code = status.code() == ErrorCode::kNotFound            ? "model_not_found"
                     : status.code() == ErrorCode::kResourceExhausted ? "overloaded"
                                                                      : nullptr;
  send_openai_error(res, http, status.message(), code);
}

std::string random_id(size_t n) {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::string out;
  for (size_t i = 0; i < n; ++i) out += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return out;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sov::server
