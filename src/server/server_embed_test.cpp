// Embedding endpoints over real HTTP: /api/embed, /api/embeddings and /v1/embeddings on the
// synthetic BERT models against their llama.cpp references, decoder models as embedders,
// every error path, and turn-taking with chat traffic on the compute gate.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "base/testdata.h"
#include "server/server_test_util.h"

namespace sov::server {
namespace {

using nlohmann::json;
using test::TestServer;

const char* kJson = "application/json";

std::vector<float> read_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<float> out;
  if (!in) return out;
  in.seekg(0, std::ios::end);
  out.resize(static_cast<size_t>(in.tellg()) / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size() * sizeof(float)));
  return out;
}

double cosine(const std::vector<float>& a, const float* b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

double norm(const std::vector<float>& a) {
  double s = 0;
  for (float v : a) s += static_cast<double>(v) * v;
  return std::sqrt(s);
}

struct Reference {
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> ids;
  std::vector<float> embeddings, raw;  // [4][128]
  int total_tokens = 0;
};

Reference load_reference(const std::string& testdata, const std::string& stem) {
  Reference r;
  std::ifstream in(testdata + "/reference/" + stem + "/tokens.json");
  json j = json::parse(in);
  r.texts = j["texts"].get<std::vector<std::string>>();
  r.ids = j["ids"].get<std::vector<std::vector<int32_t>>>();
  for (const auto& ids : r.ids) r.total_tokens += static_cast<int>(ids.size());
  r.embeddings = read_f32(testdata + "/reference/" + stem + "/embeddings.f32");
  r.raw = read_f32(testdata + "/reference/" + stem + "/embeddings_raw.f32");
  return r;
}

std::vector<float> floats(const json& v) {
  return v.get<std::vector<float>>();
}

// The test server with the two synthetic embedding models next to the chat models.
class EmbedServer : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = sov::test::testdata_dir();
    if (!dir) GTEST_SKIP() << "shared test data not found (SOV_TESTDATA)";
    data_ = *dir;
    server_ = std::make_unique<TestServer>(data_);
    for (const char* stem : {"synth-bert-F32", "synth-nomic-bert-F32"}) {
      std::filesystem::create_symlink(data_ + "/models/" + stem + ".gguf",
                                      server_->models_dir() / (std::string(stem) + ".gguf"));
    }
  }
  json post(const std::string& path, const json& body, int* status) {
    auto c = server_->client();
    auto res = c.Post(path, body.dump(), kJson);
    EXPECT_TRUE(res) << path << " " << httplib::to_string(res.error());
    if (!res) return json();
    *status = res->status;
    json out = json::parse(res->body, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << res->body;
    return out;
  }
  json ok(const std::string& path, const json& body) {
    int status = 0;
    json out = post(path, body, &status);
    EXPECT_EQ(status, 200) << out.dump();
    return out;
  }
  void expect_ollama_error(const std::string& path, const json& body, int status,
                           const std::string& fragment) {
    int got = 0;
    json out = post(path, body, &got);
    EXPECT_EQ(got, status) << body.dump() << " -> " << out.dump();
    ASSERT_TRUE(out.contains("error") && out["error"].is_string()) << out.dump();
    EXPECT_NE(out["error"].get<std::string>().find(fragment), std::string::npos) << out.dump();
  }
  void expect_openai_error(const json& body, int status, const char* code = nullptr) {
    int got = 0;
    json out = post("/v1/embeddings", body, &got);
    EXPECT_EQ(got, status) << body.dump() << " -> " << out.dump();
    ASSERT_TRUE(out.contains("error") && out["error"].is_object()) << out.dump();
    EXPECT_TRUE(out["error"]["message"].is_string());
    EXPECT_EQ(out["error"]["type"], "invalid_request_error");
    if (code) {
      EXPECT_EQ(out["error"]["code"], code) << out.dump();
    }
  }
  std::string data_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(EmbedServer, ApiEmbedMatchesTheReferences) {
  for (const char* stem : {"synth-bert-F32", "synth-nomic-bert-F32"}) {
    const Reference ref = load_reference(data_, stem);
    json out = ok("/api/embed", {{"model", stem}, {"input", ref.texts}});
    EXPECT_EQ(out["model"], stem);
    ASSERT_EQ(out["embeddings"].size(), 4u) << out.dump();
    for (size_t i = 0; i < 4; ++i) {
      const std::vector<float> e = floats(out["embeddings"][i]);
      ASSERT_EQ(e.size(), 128u);
      EXPECT_GE(cosine(e, &ref.embeddings[i * 128]), 0.999) << stem << " text " << i;
      EXPECT_NEAR(norm(e), 1.0, 1e-5);
    }
    EXPECT_EQ(out["prompt_eval_count"], ref.total_tokens);
    EXPECT_GT(out["total_duration"].get<int64_t>(), 0);
    EXPECT_GE(out["load_duration"].get<int64_t>(), 0);
    // A single string: the same vector as in the list (a batch equals one by one).
    json one = ok("/api/embed", {{"model", stem}, {"input", ref.texts[2]}});
    ASSERT_EQ(one["embeddings"].size(), 1u);
    EXPECT_EQ(one["embeddings"][0], out["embeddings"][2]);
    EXPECT_EQ(one["load_duration"], 0);  // already loaded
  }
  // The access log (and its metrics) is written just after each response: poll for it.
  auto c = server_->client();
  const std::string want = "sov_http_requests_total{route=\"/api/embed\",status=\"200\"} 4\n";
  std::string body;
  for (int i = 0; i < 500 && body.find(want) == std::string::npos; ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto metrics = c.Get("/metrics");
    ASSERT_TRUE(metrics);
    body = metrics->body;
  }
  EXPECT_NE(body.find(want), std::string::npos) << body;
}

TEST_F(EmbedServer, LegacyEmbeddingsAreNotNormalised) {
  const Reference ref = load_reference(data_, "synth-bert-F32");
  json out = ok("/api/embeddings", {{"model", "synth-bert-F32"}, {"prompt", ref.texts[1]}});
  const std::vector<float> e = floats(out["embedding"]);
  ASSERT_EQ(e.size(), 128u);
  EXPECT_GE(cosine(e, &ref.raw[128]), 0.999);
  const std::vector<float> raw(ref.raw.begin() + 128, ref.raw.begin() + 256);
  EXPECT_NEAR(norm(e), norm(raw), 1e-3 * norm(raw));
  EXPECT_GT(std::fabs(norm(e) - 1.0), 1e-2);  // really unnormalised
  // An empty prompt loads the model and returns an empty embedding, as Ollama does.
  json empty = ok("/api/embeddings", {{"model", "synth-bert-F32"}, {"prompt", ""}});
  EXPECT_TRUE(empty["embedding"].empty());
}

TEST_F(EmbedServer, OpenAiEmbeddings) {
  const Reference ref = load_reference(data_, "synth-nomic-bert-F32");
  const std::string model = "synth-nomic-bert-F32";
  json out = ok("/v1/embeddings", {{"model", model}, {"input", ref.texts}});
  EXPECT_EQ(out["object"], "list");
  EXPECT_EQ(out["model"], model);
  EXPECT_EQ(out["usage"]["prompt_tokens"], ref.total_tokens);
  EXPECT_EQ(out["usage"]["total_tokens"], ref.total_tokens);
  ASSERT_EQ(out["data"].size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(out["data"][i]["object"], "embedding");
    EXPECT_EQ(out["data"][i]["index"], i);
    EXPECT_GE(cosine(floats(out["data"][i]["embedding"]), &ref.embeddings[i * 128]), 0.999);
  }
  // base64: the same float32 values, little-endian.
  json b64 = ok("/v1/embeddings", {{"model", model}, {"input", ref.texts}, {"encoding_format", "base64"}});
  for (size_t i = 0; i < 4; ++i) {
    const std::string text = b64["data"][i]["embedding"].get<std::string>();
    static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
      if (c == '=') break;
      acc = (acc << 6) | static_cast<uint32_t>(kAlphabet.find(c));
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        bytes.push_back(static_cast<char>((acc >> bits) & 0xFF));
      }
    }
    ASSERT_EQ(bytes.size(), 128u * 4);
    std::vector<float> decoded(128);
    std::memcpy(decoded.data(), bytes.data(), bytes.size());
    EXPECT_EQ(decoded, floats(out["data"][i]["embedding"])) << i;
  }
  // Token arrays: one list of ids, and a list of lists, give the texts' vectors.
  json one = ok("/v1/embeddings", {{"model", model}, {"input", ref.ids[0]}});
  EXPECT_EQ(one["data"][0]["embedding"], out["data"][0]["embedding"]);
  json many = ok("/v1/embeddings", {{"model", model}, {"input", ref.ids}});
  ASSERT_EQ(many["data"].size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(many["data"][i]["embedding"], out["data"][i]["embedding"]);
  EXPECT_EQ(many["usage"]["prompt_tokens"], ref.total_tokens);
  // dimensions: the first values of the raw vector, renormalised (Matryoshka).
  json cut = ok("/v1/embeddings", {{"model", model}, {"input", ref.texts[3]}, {"dimensions", 32}});
  const std::vector<float> c = floats(cut["data"][0]["embedding"]);
  ASSERT_EQ(c.size(), 32u);
  EXPECT_NEAR(norm(c), 1.0, 1e-5);
  EXPECT_GE(cosine(c, &ref.raw[3 * 128]), 0.999);
  // The pooling extension: CLS differs from the model's mean.
  json cls = ok("/v1/embeddings", {{"model", model}, {"input", ref.texts[0]}, {"pooling", "cls"}});
  EXPECT_LT(cosine(floats(cls["data"][0]["embedding"]), &ref.embeddings[0]), 0.99);
}

TEST_F(EmbedServer, TruncationAndContext) {
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "cat ";  // 602 tokens with [CLS] [SEP], context 512
  // Ollama's default: cut to the context.
  json cut = ok("/api/embed", {{"model", "synth-bert-F32"}, {"input", long_text}});
  EXPECT_EQ(cut["prompt_eval_count"], 512);
  expect_ollama_error("/api/embed", {{"model", "synth-bert-F32"}, {"input", long_text}, {"truncate", false}},
                      400, "602 tokens");
  expect_openai_error({{"model", "synth-bert-F32"}, {"input", long_text}, {"truncate", false}}, 400);
  json v1 = ok("/v1/embeddings", {{"model", "synth-bert-F32"}, {"input", long_text}});
  EXPECT_EQ(v1["usage"]["prompt_tokens"], 512);
  // num_ctx lowers the context for truncation (and for the error).
  json small =
      ok("/api/embed", {{"model", "synth-bert-F32"}, {"input", long_text}, {"options", {{"num_ctx", 64}}}});
  EXPECT_EQ(small["prompt_eval_count"], 64);
  expect_ollama_error("/api/embed",
                      {{"model", "synth-bert-F32"},
                       {"input", "a b c d e f g h i j"},
                       {"truncate", false},
                       {"options", {{"num_ctx", 4}}}},
                      400, "context of 4");
}

TEST_F(EmbedServer, Errors) {
  expect_ollama_error("/api/embed", {{"model", "no-such-model"}, {"input", "x"}}, 404, "no-such-model");
  expect_ollama_error("/api/embeddings", {{"model", "no-such-model"}, {"prompt", "x"}}, 404, "no-such-model");
  expect_openai_error({{"model", "no-such-model"}, {"input", "x"}}, 404, "model_not_found");
  expect_ollama_error("/api/embed", {{"input", "x"}}, 400, "model");
  expect_ollama_error("/api/embed", {{"model", "synth-bert-F32"}, {"input", 5}}, 400, "input");
  expect_ollama_error("/api/embed", {{"model", "synth-bert-F32"}, {"input", {"a", 1}}}, 400, "input");
  expect_ollama_error("/api/embed", {{"model", "synth-bert-F32"}, {"input", "a"}, {"dimensions", 129}}, 400,
                      "dimensions");
  expect_ollama_error("/api/embed", {{"model", "synth-bert-F32"}, {"input", "a"}, {"pooling", "max"}}, 400,
                      "pooling");
  expect_ollama_error("/api/embed", {{"model", "synth-bert-F32"}, {"input", "a"}, {"keep_alive", "soon"}},
                      400, "");
  expect_openai_error({{"model", "synth-bert-F32"}, {"input", ""}}, 400);
  expect_openai_error({{"model", "synth-bert-F32"}, {"input", json::array()}}, 400);
  expect_openai_error({{"model", "synth-bert-F32"}, {"input", {"a", ""}}}, 400);
  expect_openai_error({{"model", "synth-bert-F32"}}, 400);
  expect_openai_error({{"model", "synth-bert-F32"}, {"input", {{"a"}}}}, 400);
  expect_openai_error({{"model", "synth-bert-F32"}, {"input", {101, 40000, 102}}}, 400);  // outside the vocab
  expect_openai_error({{"model", "synth-bert-F32"}, {"input", {101, -3}}}, 400);
  {
    int got = 0;
    json out = post("/v1/embeddings",
                    {{"model", "synth-bert-F32"}, {"input", {{101, 102}, {101, 40000, 102}}}}, &got);
    EXPECT_EQ(got, 400);
    EXPECT_NE(out["error"]["message"].get<std::string>().find("input 1: token id 40000"), std::string::npos)
        << out.dump();
  }
  expect_openai_error({{"model", "synth-bert-F32"}, {"input", "a"}, {"encoding_format", "int8"}}, 400);
  expect_openai_error({{"model", "synth-bert-F32"}, {"input", "a"}, {"dimensions", 0}}, 400);
  // An embedding model cannot generate or chat.
  expect_ollama_error("/api/generate", {{"model", "synth-bert-F32"}, {"prompt", "hi"}, {"stream", false}},
                      400, "does not support generate");
  int status = 0;
  json chat =
      post("/v1/chat/completions",
           {{"model", "synth-bert-F32"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}, &status);
  EXPECT_EQ(status, 400) << chat.dump();
  // Bad JSON.
  auto c = server_->client();
  auto res = c.Post("/api/embed", "{not json", kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  // Still serving after all that.
  EXPECT_EQ(ok("/api/embed", {{"model", "synth-bert-F32"}, {"input", "fine"}})["embeddings"].size(), 1u);
}

TEST_F(EmbedServer, EmptyInputLoadsAndKeepAliveZeroUnloads) {
  json load = ok("/api/embed", {{"model", "synth-bert-F32"}});
  EXPECT_TRUE(load["embeddings"].empty());
  EXPECT_EQ(load["prompt_eval_count"], 0);
  EXPECT_EQ(ok("/api/show", {{"model", "synth-bert-F32"}})["capabilities"], json::array({"embedding"}));
  EXPECT_EQ(ok("/api/show", {{"model", "stories260K"}})["capabilities"][0], "completion");
  auto c = server_->client();
  auto ps = c.Get("/api/ps");
  ASSERT_TRUE(ps);
  EXPECT_NE(ps->body.find("synth-bert-F32"), std::string::npos) << ps->body;
  ok("/api/embed", {{"model", "synth-bert-F32"}, {"input", "bye"}, {"keep_alive", 0}});
  ps = c.Get("/api/ps");
  ASSERT_TRUE(ps);
  EXPECT_EQ(ps->body.find("synth-bert-F32"), std::string::npos) << ps->body;
}

// Decoder models embed through the same endpoints (final hidden state, last-token pooling).
TEST_F(EmbedServer, DecoderModelsEmbed) {
  const std::vector<std::string> texts = {"Once upon a time", "there was a little girl", "One day"};
  json batch = ok("/api/embed", {{"model", "stories260K"}, {"input", texts}});
  ASSERT_EQ(batch["embeddings"].size(), 3u);
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<float> e = floats(batch["embeddings"][i]);
    EXPECT_EQ(e.size(), 64u);
    EXPECT_NEAR(norm(e), 1.0, 1e-5);
    json one = ok("/v1/embeddings", {{"model", "stories260K"}, {"input", texts[i]}});
    const std::vector<float> alone = floats(one["data"][0]["embedding"]);
    EXPECT_GE(cosine(e, alone.data()), 0.99999) << i;
  }
  EXPECT_LT(cosine(floats(batch["embeddings"][0]), floats(batch["embeddings"][1]).data()), 0.999);
  // The same model still generates.
  json gen = ok("/api/generate", {{"model", "stories260K"},
                                  {"prompt", "Once upon a time"},
                                  {"stream", false},
                                  {"options", {{"temperature", 0}, {"num_predict", 4}}}});
  EXPECT_EQ(gen["eval_count"], 4);
}

// An embedding request waits for its turn on the compute gate, and chat and embedding traffic
// running together both get correct results.
TEST_F(EmbedServer, TakesTurnsWithChat) {
  const Reference ref = load_reference(data_, "synth-bert-F32");
  ok("/api/embed", {{"model", "synth-bert-F32"}});  // loaded, so the request below only waits for its turn
  scheduler::ComputeGate& gate = server_->server().manager().gate();
  auto held = gate.enter();
  auto pending = std::async(std::launch::async, [&] {
    int status = 0;
    json out = post("/api/embed", {{"model", "synth-bert-F32"}, {"input", ref.texts[0]}}, &status);
    return std::make_pair(status, out);
  });
  while (gate.waiting() < 1) std::this_thread::yield();
  EXPECT_EQ(pending.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  held.release();
  auto [status, out] = pending.get();
  ASSERT_EQ(status, 200);
  EXPECT_GE(cosine(floats(out["embeddings"][0]), &ref.embeddings[0]), 0.999);

  // A streamed generation and many embedding requests at once.
  const test::Reference story = test::stories_reference(data_);
  auto chat = std::async(std::launch::async, [&] {
    int st = 0;
    json g = post("/api/generate",
                  {{"model", "stories260K"},
                   {"prompt", story.prompt},
                   {"stream", false},
                   {"options", {{"temperature", 0}, {"repeat_penalty", 1}, {"num_predict", 16}}}},
                  &st);
    return g;
  });
  std::vector<std::future<json>> embeds;
  for (int k = 0; k < 6; ++k) {
    embeds.push_back(std::async(std::launch::async, [&, k] {
      int st = 0;
      return post(k % 2 ? "/v1/embeddings" : "/api/embed",
                  {{"model", "synth-bert-F32"}, {"input", ref.texts}}, &st);
    }));
  }
  for (int k = 0; k < 6; ++k) {
    json e = embeds[k].get();
    for (size_t i = 0; i < 4; ++i) {
      const json& v = k % 2 ? e["data"][i]["embedding"] : e["embeddings"][i];
      EXPECT_GE(cosine(floats(v), &ref.embeddings[i * 128]), 0.999) << k << " " << i;
    }
  }
  EXPECT_EQ(chat.get()["response"], story.text);
}

}  // namespace
}  // namespace sov::server
