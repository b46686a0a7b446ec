// libFuzzer target: the GGUF reader must refuse or accept any byte string without crashing,
// reading out of bounds or allocating more than the input justifies.
#include <cstddef>
#include <cstdint>

#include "gguf/file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = sov::gguf::File::parse({data, size});
  if (file.is_ok()) {
    // Touch what a loader would read.
    for (const auto& t : file->tensors()) {
      volatile uint8_t sink = t.info.n_bytes > 0 ? t.data[t.info.n_bytes - 1] : 0;
      (void)sink;
    }
    (void)file->get_string("general.architecture");
  }
  return 0;
}
