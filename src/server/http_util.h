// Request parsing helpers shared by the route files: the JSON body, typed optional fields
// with error messages that name the field, HTTP status for a Status, and error bodies in
// Ollama's ({"error": "..."}) and OpenAI's ({"error": {"message", "type", ...}}) shapes.
//
// Stateless; thread-safe.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace sov::server {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// Parses the body as a JSON object (key order kept, for chat templates' tojson). Bodies
// nested deeper than kMaxJsonDepth are refused before parsing (400, never a stack overflow).
inline constexpr int kMaxJsonDepth = 128;
Result<ojson> parse_json_body(const httplib::Request& req);
// True when arrays/objects in `text` (JSON, strings skipped) nest deeper than `max_depth`.
bool json_nesting_exceeds(std::string_view text, int max_depth);

// Typed optional fields: nullopt when absent or null; an error naming `key` when present
// with the wrong type.
Result<std::optional<std::string>> get_string(const ojson& obj, std::string_view key);
Result<std::optional<bool>> get_bool(const ojson& obj, std::string_view key);
Result<std::optional<double>> get_number(const ojson& obj, std::string_view key);
// Integers only (3 and 3.0 are fine; 3.5 is not), within [lo, hi].
Result<std::optional<int64_t>> get_int(const ojson& obj, std::string_view key, int64_t lo, int64_t hi);
Result<std::optional<ojson>> get_object(const ojson& obj, std::string_view key);
Result<std::optional<ojson>> get_array(const ojson& obj, std::string_view key);

// 400 invalid argument / out of range, 404 not found, 503 resource exhausted, 500 others.
int http_status(const Status& status);

// {"error": message} with the status.
void send_ollama_error(httplib::Response& res, int status, const std::string& message);
void send_ollama_error(httplib::Response& res, const Status& status);
// {"error": {"message", "type", "param": null, "code"}}.
json openai_error_body(int status, const std::string& message, const char* code = nullptr);
void send_openai_error(httplib::Response& res, int status, const std::string& message,
                       const char* code = nullptr);
void send_openai_error(httplib::Response& res, const Status& status);

void send_json(httplib::Response& res, const json& body, int status = 200);
void send_json(httplib::Response& res, const ojson& body, int status = 200);

// Random identifier suffix ("chatcmpl-<this>"), 24 alphanumerics.
std::string random_id(size_t n = 24);

// Seconds since the Unix epoch.
int64_t unix_now();

}  // namespace sov::server
