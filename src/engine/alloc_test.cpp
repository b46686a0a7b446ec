// Nothing allocates in the decode loop: after a warm-up step, decoding one token (and a
// multi-sequence generation step) performs no heap allocation, on every kernel path. The
// global operator new of this test binary counts allocations.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "base/testdata.h"
#include "engine/context.h"
#include "kernels/isa.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  return operator new(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace sov::engine {
namespace {

TEST(DecodeLoop, AllocatesNothingAfterWarmUp) {
  SOV_REQUIRE_TESTDATA(dir);
  const kernels::Isa saved = kernels::active_isa();
  for (const char* stem : {"stories260K", "synth-llama-Q4_K_M", "synth-llama-Q8_0", "synth-qwen2-F16"}) {
    const long at_load = g_allocations.load();
    auto model = Model::load(dir + "/models/" + stem + ".gguf");
    ASSERT_TRUE(model.is_ok()) << stem;
    ASSERT_GT(g_allocations.load(), at_load) << "the allocation counter does not count";
    for (kernels::Isa isa : {kernels::Isa::kScalar, kernels::Isa::kAvx512}) {
      if (isa > kernels::best_isa()) continue;
      kernels::set_isa(isa);
      auto ctx = Context::create(*model, {.n_ctx = 64, .n_threads = 2, .n_seq = 2});
      ASSERT_TRUE(ctx.is_ok());
      const int32_t prompt[] = {1, 20, 30, 40};
      ASSERT_TRUE((*ctx)->decode(prompt).is_ok());
      int32_t token = 5;
      ASSERT_TRUE((*ctx)->decode(std::span<const int32_t>(&token, 1)).is_ok());  // warm-up
      const BatchToken step[] = {{0, 7, true}, {1, 9, true}};
      ASSERT_TRUE((*ctx)->decode_batch(step).is_ok());  // warm-up
      const long before = g_allocations.load();
      for (int i = 0; i < 8; ++i) {
        token = 10 + i;
        ASSERT_TRUE((*ctx)->decode(std::span<const int32_t>(&token, 1)).is_ok());
        ASSERT_TRUE((*ctx)->decode_batch(step).is_ok());
      }
      EXPECT_EQ(g_allocations.load() - before, 0) << stem << " on " << kernels::isa_name(isa);
    }
  }
  kernels::set_isa(saved);
}

}  // namespace
}  // namespace sov::engine
