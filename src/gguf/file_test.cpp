// Parser tests on files built in memory: what is valid reads back, what is malformed is
// refused with a message that names the problem.
#include "gguf/file.h"

#include <gtest/gtest.h>

#include <cstring>

#include "gguf/writer.h"

namespace sov::gguf {
namespace {

std::vector<uint8_t> f32_bytes(size_t n) {
  std::vector<uint8_t> b(n * 4);
  for (size_t i = 0; i < n; ++i) {
    float f = static_cast<float>(i);
    std::memcpy(&b[i * 4], &f, 4);
  }
  return b;
}

Writer small_writer() {
  Writer w;
  w.set("general.architecture", "llama");
  w.set("llama.block_count", uint32_t{2});
  EXPECT_TRUE(w.add_tensor("a", TensorType::kF32, {8, 2}, f32_bytes(16)).is_ok());
  EXPECT_TRUE(w.add_tensor("b", TensorType::kF32, {4}, f32_bytes(4)).is_ok());
  return w;
}

// Raw little-endian builder for files the writer would refuse to produce.
struct Raw {
  std::vector<uint8_t> b;
  template <typename T>
  Raw& pod(T x) {
    size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(&b[at], &x, sizeof(T));
    return *this;
  }
  Raw& str(const std::string& s) {
    pod<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Raw& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    return pod<uint32_t>(kMagic).pod<uint32_t>(version).pod<uint64_t>(n_tensors).pod<uint64_t>(n_kv);
  }
  Raw& tensor(const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
    str(name).pod<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (auto n : ne) pod<int64_t>(n);
    return pod<uint32_t>(type).pod<uint64_t>(offset);
  }
  Raw& pad(size_t align = 32) {
    while (b.size() % align) b.push_back(0);
    return *this;
  }
  Raw& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
};

Status parse_status(const std::vector<uint8_t>& bytes) { return File::parse(bytes).status(); }

void expect_refused(const std::vector<uint8_t>& bytes, const std::string& fragment) {
  Status s = parse_status(bytes);
  ASSERT_FALSE(s.is_ok()) << "expected refusal mentioning '" << fragment << "'";
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
}

TEST(GgufRoundTrip, EveryValueType) {
  Writer w;
  w.set("u8", uint8_t{200});
  w.set("i8", int8_t{-5});
  w.set("u16", uint16_t{60000});
  w.set("i16", int16_t{-30000});
  w.set("u32", uint32_t{4000000000u});
  w.set("i32", int32_t{-2000000000});
  w.set("f32", 1.5f);
  w.set("bool", true);
  w.set("str", "h\xC3\xA9llo");
  w.set("u64", uint64_t{1} << 60);
  w.set("i64", int64_t{-1} << 60);
  w.set("f64", 2.25);
  Array strings{ValueType::kString, {Value("a"), Value(""), Value("\xE2\x96\x81the")}};
  w.set("arr.str", strings);
  Array inner1{ValueType::kInt32, {Value(int32_t{1}), Value(int32_t{2})}};
  Array inner2{ValueType::kInt32, {}};
  w.set("arr.nested", Array{ValueType::kArray, {Value(inner1), Value(inner2)}});
  w.set("arr.empty", Array{ValueType::kFloat32, {}});
  w.set("u8", uint8_t{201});  // replacing keeps the first position
  auto bytes = w.to_bytes();
  auto f = File::parse(bytes);
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  ASSERT_EQ(f->metadata().size(), 15u);
  EXPECT_EQ(f->metadata()[0].key, "u8");
  EXPECT_EQ(*f->find("u8"), Value(uint8_t{201}));
  EXPECT_EQ(*f->find("i8"), Value(int8_t{-5}));
  EXPECT_EQ(*f->find("u16"), Value(uint16_t{60000}));
  EXPECT_EQ(*f->find("i16"), Value(int16_t{-30000}));
  EXPECT_EQ(*f->find("u32"), Value(uint32_t{4000000000u}));
  EXPECT_EQ(*f->find("i32"), Value(int32_t{-2000000000}));
  EXPECT_EQ(*f->find("f32"), Value(1.5f));
  EXPECT_EQ(*f->find("bool"), Value(true));
  EXPECT_EQ(*f->get_string("str"), "h\xC3\xA9llo");
  EXPECT_EQ(*f->find("u64"), Value(uint64_t{1} << 60));
  EXPECT_EQ(*f->find("i64"), Value(int64_t{-1} << 60));
  EXPECT_EQ(*f->find("f64"), Value(2.25));
  EXPECT_EQ(**f->get_array("arr.str"), strings);
  EXPECT_EQ((*f->get_array("arr.nested"))->items[0], Value(inner1));
  EXPECT_EQ((*f->get_array("arr.empty"))->type, ValueType::kFloat32);
  // Typed accessors convert integers and name the key on a mismatch.
  EXPECT_EQ(*f->get_int("u16"), 60000);
  EXPECT_EQ(*f->get_float("i8"), -5.0);
  EXPECT_EQ(f->get_int("str").status().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(f->get_int("missing").status().code(), ErrorCode::kNotFound);
  // Writing what we read gives the same bytes.
  Writer again;
  for (const auto& kv : f->metadata()) again.set(kv.key, kv.value);
  EXPECT_EQ(again.to_bytes(), bytes);
}

TEST(GgufRoundTrip, TensorsAndAlignment) {
  for (uint32_t align : {32u, 64u, 8u}) {
    Writer w = small_writer();
    w.set_alignment(align);
    auto bytes = w.to_bytes();
    auto f = File::parse(bytes);
    ASSERT_TRUE(f.is_ok()) << f.status().to_string();
    EXPECT_EQ(f->alignment(), align);
    EXPECT_EQ(f->data_offset() % align, 0u);
    ASSERT_EQ(f->tensors().size(), 2u);
    const Tensor* a = f->find_tensor("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->info.shape_string(), "[8, 2]");
    EXPECT_EQ(a->info.n_bytes, 64u);
    float v;
    std::memcpy(&v, a->data + 4 * 5, 4);
    EXPECT_EQ(v, 5.0f);
    EXPECT_EQ(f->find_tensor("b")->info.offset % align, 0u);
  }
}

TEST(GgufRoundTrip, Version2) {
  Writer w = small_writer();
  w.set_version(2);
  auto bytes = w.to_bytes();
  auto f = File::parse(bytes);
  ASSERT_TRUE(f.is_ok());
  EXPECT_EQ(f->version(), 2u);
}

TEST(GgufWriter, RefusesBadTensors) {
  Writer w;
  EXPECT_FALSE(w.add_tensor("q", TensorType::kQ8_0, {172}, std::vector<uint8_t>(200)).is_ok());
  EXPECT_FALSE(w.add_tensor("x", TensorType::kF32, {4}, std::vector<uint8_t>(15)).is_ok());
  EXPECT_TRUE(w.add_tensor("x", TensorType::kF32, {4}, std::vector<uint8_t>(16)).is_ok());
  EXPECT_FALSE(w.add_tensor("x", TensorType::kF32, {4}, std::vector<uint8_t>(16)).is_ok());
}

TEST(GgufRefuse, BadMagicAndVersions) {
  expect_refused(Raw().pod<uint32_t>(0x12345678).pod<uint32_t>(3).b, "bad magic");
  expect_refused(Raw().header(1, 0, 0).b, "version 1");
  expect_refused(Raw().header(4, 0, 0).b, "unsupported GGUF version 4");
  expect_refused({}, "truncated");
  expect_refused(Raw().pod<uint32_t>(kMagic).b, "version");
}

TEST(GgufRefuse, HostileCountsDoNotAllocate) {
  expect_refused(Raw().header(3, 0, ~0ull >> 1).b, "metadata count");
  expect_refused(Raw().header(3, ~0ull >> 1, 0).b, "tensor count");
  // A string array claiming 2^60 items in a tiny file.
  Raw r;
  r.header(3, 0, 1).str("k").pod<uint32_t>(9).pod<uint32_t>(8).pod<uint64_t>(1ull << 60);
  expect_refused(r.b, "claims");
  // A string claiming more bytes than remain.
  Raw s;
  s.header(3, 0, 1).str("k").pod<uint32_t>(8).pod<uint64_t>(1ull << 40);
  expect_refused(s.b, "claims");
}

TEST(GgufRefuse, MetadataProblems) {
  expect_refused(Raw().header(3, 0, 2).str("k").pod<uint32_t>(4).pod<uint32_t>(1).str("k").pod<uint32_t>(4).pod<uint32_t>(1).b,
                 "duplicate metadata key 'k'");
  expect_refused(Raw().header(3, 0, 1).str("k\xFF").pod<uint32_t>(4).pod<uint32_t>(1).b, "not valid UTF-8");
  expect_refused(Raw().header(3, 0, 1).str("k").pod<uint32_t>(13).pod<uint32_t>(1).b, "unknown value type 13");
  expect_refused(Raw().header(3, 0, 1).str("k").pod<uint32_t>(7).pod<uint8_t>(2).b, "bool");
  expect_refused(Raw().header(3, 0, 1).str("general.alignment").pod<uint32_t>(4).pod<uint32_t>(24).b,
                 "power of two");
  // Arrays nested beyond the depth limit.
  Raw deep;
  deep.header(3, 0, 1).str("k").pod<uint32_t>(9);
  for (int i = 0; i < 20; ++i) deep.pod<uint32_t>(9).pod<uint64_t>(1);
  deep.pod<uint32_t>(4).pod<uint64_t>(0);
  expect_refused(deep.b, "deeper");
}

TEST(GgufRefuse, TensorProblems) {
  auto one = [](const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t offset,
                size_t data) { return Raw().header(3, 1, 0).tensor(name, ne, type, offset).pad().zeros(data).b; };
  EXPECT_TRUE(parse_status(one("t", {8}, 0, 0, 32)).is_ok());
  expect_refused(one("t", {8}, 99, 0, 32), "unknown type 99");
  expect_refused(one("t", {172, 2}, 8, 0, 1024), "172 elements per row, not a multiple of block size (32)");
  expect_refused(one("t", {8}, 0, 0, 16), "outside the file");
  expect_refused(one("t", {8}, 0, 64, 32), "outside the file");
  expect_refused(one("t", {8}, 0, 4, 64), "not a multiple of the alignment");
  expect_refused(one("t", {-8}, 0, 0, 32), "negative");
  expect_refused(one("t", {1ll << 40, 1ll << 40}, 0, 0, 32), "overflows");
  expect_refused(one("t", {1ll << 62}, 0, 0, 32), "needs more bytes than the file has");
  expect_refused(one("t", {8, 1, 1, 1, 1}, 0, 0, 32), "dimensions");
  expect_refused(one("", {8}, 0, 0, 32), "invalid name");
  auto two = Raw().header(3, 2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad().zeros(128).b;
  expect_refused(two, "overlaps");
  auto dup = Raw().header(3, 2, 0).tensor("a", {8}, 0, 0).tensor("a", {8}, 0, 32).pad().zeros(64).b;
  expect_refused(dup, "duplicate tensor name 'a'");
}

TEST(GgufVocabOnly, EndsBeforePadding) {
  Raw r;
  r.header(3, 0, 1).str("tokenizer.ggml.model").pod<uint32_t>(8).str("llama");
  ASSERT_NE(r.b.size() % 32, 0u);
  auto f = File::parse(r.b);
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ(*f->get_string("tokenizer.ggml.model"), "llama");
  EXPECT_TRUE(f->tensors().empty());
}

TEST(GgufOpen, ErrorNamesThePath) {
  auto f = File::open("/nonexistent/model.gguf");
  ASSERT_FALSE(f.is_ok());
  EXPECT_NE(f.status().message().find("/nonexistent/model.gguf"), std::string::npos);
}

}  // namespace
}  // namespace sov::gguf
