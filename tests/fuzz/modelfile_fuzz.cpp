// libFuzzer target: the Modelfile parser must accept or refuse any byte string without
// crashing, and whatever it accepts must survive format -> parse unchanged (the property
// `sov show --modelfile` relies on). Model names and digests from the same bytes are
// checked too: anything accepted must be free of path tricks.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/digest.h"
#include "store/modelfile.h"
#include "store/name.h"
#include "store/params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto mf = sov::store::parse_modelfile(text);
  if (mf.is_ok()) {
    if (!sov::store::params_from_text(mf->parameters).is_ok()) __builtin_trap();
    auto again = sov::store::parse_modelfile(sov::store::format_modelfile(*mf));
    if (!again.is_ok() || !(*again == *mf)) __builtin_trap();
  }
  if (size <= 600) {
    auto name = sov::store::parse_model_name(text);
    if (name.is_ok()) {
      for (const auto* part : {&name->host, &name->ns, &name->model, &name->tag}) {
        if (part->empty() || part->find("..") != std::string::npos || part->find('/') != std::string::npos ||
            (*part)[0] == '.') {
          __builtin_trap();
        }
      }
      auto back = sov::store::parse_model_name(name->display());
      if (!back.is_ok() || !back->same_as(*name)) __builtin_trap();
    }
    auto digest = sov::store::Digest::parse(text);
    if (digest.is_ok() && digest->hex().find_first_not_of("0123456789abcdef") != std::string::npos) __builtin_trap();
  }
  return 0;
}
