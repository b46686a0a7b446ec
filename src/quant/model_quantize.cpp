#include "quant/model_quantize.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <deque>
#include <span>

#include "gguf/writer.h"
#include "quant/quant.h"

namespace sov::quant {
namespace {

using gguf::TensorType;

struct FileTypeInfo {
  FileType type;
  std::string_view name;
  TensorType base;
};

constexpr FileTypeInfo kFileTypes[] = {
    {FileType::kAllF32, "F32", TensorType::kF32},       {FileType::kMostlyF16, "F16", TensorType::kF16},
    {FileType::kMostlyBF16, "BF16", TensorType::kBF16}, {FileType::kQ8_0, "Q8_0", TensorType::kQ8_0},
    {FileType::kQ6_K, "Q6_K", TensorType::kQ6_K},       {FileType::kQ5_K_M, "Q5_K_M", TensorType::kQ5_K},
    {FileType::kQ5_K_S, "Q5_K_S", TensorType::kQ5_K},   {FileType::kQ5_1, "Q5_1", TensorType::kQ5_1},
    {FileType::kQ5_0, "Q5_0", TensorType::kQ5_0},       {FileType::kQ4_K_M, "Q4_K_M", TensorType::kQ4_K},
    {FileType::kQ4_K_S, "Q4_K_S", TensorType::kQ4_K},   {FileType::kQ4_1, "Q4_1", TensorType::kQ4_1},
    {FileType::kQ4_0, "Q4_0", TensorType::kQ4_0},       {FileType::kQ3_K_L, "Q3_K_L", TensorType::kQ3_K},
    {FileType::kQ3_K_M, "Q3_K_M", TensorType::kQ3_K},   {FileType::kQ3_K_S, "Q3_K_S", TensorType::kQ3_K},
    {FileType::kQ2_K, "Q2_K", TensorType::kQ2_K},
};

const FileTypeInfo& info_of(FileType t) {
  for (const auto& i : kFileTypes) {
    if (i.type == t) return i;
  }
  return kFileTypes[0];
}

bool is_quantized(TensorType t) {
  return t != TensorType::kF32 && t != TensorType::kF16 && t != TensorType::kBF16;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// "blk.N." -> N, else -1: llama.cpp's order puts non-layer tensors first.
int layer_of(std::string_view name) {
  if (name.substr(0, 4) != "blk.") return -1;
  int n = 0;
  size_t i = 4;
  if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return -1;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) n = n * 10 + (name[i++] - '0');
  return (i < name.size() && name[i] == '.') ? n : -1;
}

// Dimensions up to the last one larger than 1 (ggml_n_dims).
int effective_dims(const gguf::TensorInfo& t) {
  int n = 1;
  for (int d = 1; d < gguf::kMaxDims; ++d) {
    if (t.ne[d] > 1) n = d + 1;
  }
  return n;
}

// What llama-quantize leaves alone whatever the file type.
bool should_quantize(const gguf::TensorInfo& t) {
  const std::string_view name = t.name;
  if (name.size() < 6 || name.substr(name.size() - 6) != "weight") return false;
  if (effective_dims(t) < 2) return false;
  for (std::string_view skip :
       {"_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d.weight", "time_mix_first.weight",
        "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight", "attn_rel_b.weight"}) {
    if (contains(name, skip)) return false;
  }
  return name != "position_embd.weight" && name != "token_types.weight";
}

int64_t get_int_or(const gguf::File& f, const std::string& key, int64_t fallback) {
  const gguf::Value* v = f.find(key);
  if (v == nullptr) return fallback;
  if (auto i = v->as_int()) return *i;
  if (const auto* a = v->as_array(); a != nullptr && !a->items.empty()) {  // per-layer arrays
    if (auto i = a->items[0].as_int()) return *i;
  }
  return fallback;
}

struct ModelInfo {
  std::string arch;
  int n_layer = 0;
  int n_expert = 0;
  int n_gqa = 1;
  bool is_70b = false;
  bool has_output = false;
  int n_attention_wv = 0;
};

// Mutable counters of llama.cpp's quantize_state_impl.
struct Counters {
  int i_attention_wv = 0;
  int i_ffn_down = 0;
  int i_ffn_gate = 0;
  int i_ffn_up = 0;
};

bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

// The recipe's choice for one tensor that is being quantized (llama_tensor_get_type).
Result<TensorType> recipe_type(const ModelInfo& m, Counters& c, FileType ft, TensorType new_type,
                               const gguf::TensorInfo& t, bool* fallback) {
  const std::string& name = t.name;
  const bool falcon = m.arch == "falcon";
  const int64_t nx = t.ne[0];
  // Layer index of a per-layer tensor: by counter, or from the name for MoE models whose
  // expert tensors are not consecutive.
  auto layer = [&](int counter) -> Result<int> {
    if (m.n_expert <= 1) return counter;
    const int l = layer_of(name);
    if (l < 0 || l >= m.n_layer) return Status::corrupt("cannot determine the layer of tensor " + name);
    return l;
  };

  if (name == "output.weight" || (!m.has_output && name == "token_embd.weight")) {
    if (falcon || nx % gguf::traits(new_type).block_size != 0) {
      new_type = TensorType::kQ8_0;
    } else if (new_type != TensorType::kQ8_0) {
      new_type = TensorType::kQ6_K;
    }
  } else if (name == "token_embd.weight") {
    // Kept at the base type for the file types supported here.
  } else if (contains(name, "attn_v.weight")) {
    if (ft == FileType::kQ2_K) {
      new_type = m.n_gqa >= 4 ? TensorType::kQ4_K : TensorType::kQ3_K;
    } else if (ft == FileType::kQ3_K_M) {
      new_type = c.i_attention_wv < 2 ? TensorType::kQ5_K : TensorType::kQ4_K;
    } else if (ft == FileType::kQ3_K_L) {
      new_type = TensorType::kQ5_K;
    } else if ((ft == FileType::kQ4_K_M || ft == FileType::kQ5_K_M) &&
               use_more_bits(c.i_attention_wv, m.n_attention_wv)) {
      new_type = TensorType::kQ6_K;
    } else if (ft == FileType::kQ4_K_S && c.i_attention_wv < 4) {
      new_type = TensorType::kQ5_K;
    }
    if (m.is_70b && (new_type == TensorType::kQ3_K || new_type == TensorType::kQ4_K))
      new_type = TensorType::kQ5_K;
    if (m.n_expert == 8) new_type = TensorType::kQ8_0;
    ++c.i_attention_wv;
  } else if (contains(name, "attn_k.weight")) {
    if (m.n_expert == 8) new_type = TensorType::kQ8_0;
  } else if (contains(name, "ffn_down")) {
    SOV_ASSIGN_OR_RETURN(const int i_layer, layer(c.i_ffn_down));
    const int n_layer = m.n_layer;
    if (ft == FileType::kQ2_K) {
      new_type = TensorType::kQ3_K;
    } else if (ft == FileType::kQ3_K_M) {
      new_type = i_layer < n_layer / 16                       ? TensorType::kQ5_K
                 : !falcon || use_more_bits(i_layer, n_layer) ? TensorType::kQ4_K
                                                              : TensorType::kQ3_K;
    } else if (ft == FileType::kQ3_K_L) {
      new_type = falcon ? TensorType::kQ4_K : TensorType::kQ5_K;
    } else if (ft == FileType::kQ4_K_M) {
      if (falcon) {
        new_type = i_layer < n_layer / 16            ? TensorType::kQ6_K
                   : use_more_bits(i_layer, n_layer) ? TensorType::kQ5_K
                                                     : TensorType::kQ4_K;
      } else if (use_more_bits(i_layer, n_layer)) {
        new_type = TensorType::kQ6_K;
      }
    } else if (ft == FileType::kQ5_K_M && use_more_bits(i_layer, n_layer)) {
      new_type = TensorType::kQ6_K;
    } else if (ft == FileType::kQ4_K_S && !falcon && i_layer < n_layer / 8) {
      new_type = TensorType::kQ5_K;
    }
    ++c.i_ffn_down;
  } else if (contains(name, "attn_output.weight")) {
    if (!falcon) {
      if (m.n_expert == 8) {
        if (ft == FileType::kQ2_K || ft == FileType::kQ3_K_S || ft == FileType::kQ3_K_M ||
            ft == FileType::kQ4_K_S || ft == FileType::kQ4_K_M) {
          new_type = TensorType::kQ5_K;
        }
      } else if (ft == FileType::kQ2_K) {
        new_type = TensorType::kQ3_K;
      } else if (ft == FileType::kQ3_K_M) {
        new_type = TensorType::kQ4_K;
      } else if (ft == FileType::kQ3_K_L) {
        new_type = TensorType::kQ5_K;
      }
    } else if (ft == FileType::kQ3_K_L) {
      new_type = TensorType::kQ4_K;
    }
  } else if (contains(name, "attn_qkv.weight")) {
    if (ft == FileType::kQ3_K_M || ft == FileType::kQ3_K_L) {
      new_type = TensorType::kQ4_K;
    } else if (ft == FileType::kQ4_K_M) {
      new_type = TensorType::kQ5_K;
    } else if (ft == FileType::kQ5_K_M) {
      new_type = TensorType::kQ6_K;
    }
  } else if (contains(name, "ffn_gate")) {
    // Only the IQ3 recipes use the layer here, but a bad name is refused like llama.cpp does.
    if (auto l = layer(c.i_ffn_gate); !l) return l.status();
    ++c.i_ffn_gate;
  } else if (contains(name, "ffn_up")) {
    if (auto l = layer(c.i_ffn_up); !l) return l.status();
    ++c.i_ffn_up;
  }

  // Rows that do not split into whole blocks of the chosen type: a compatible type.
  if (nx % gguf::traits(new_type).block_size != 0) {
    switch (new_type) {
      case TensorType::kQ2_K:
      case TensorType::kQ3_K: new_type = TensorType::kQ4_0; break;  // llama.cpp: IQ4_NL
      case TensorType::kQ4_K: new_type = TensorType::kQ5_0; break;
      case TensorType::kQ5_K: new_type = TensorType::kQ5_1; break;
      case TensorType::kQ6_K: new_type = TensorType::kQ8_0; break;
      default:
        return Status::unsupported("tensor " + name + " has rows of " + std::to_string(nx) +
                                   " elements, not a multiple of the block size of " +
                                   std::string(gguf::type_name(new_type)));
    }
    if (nx % gguf::traits(new_type).block_size != 0) new_type = TensorType::kF16;
    *fallback = true;
  }
  return new_type;
}

}  // namespace

std::optional<FileType> parse_file_type(std::string_view name) {
  std::string upper(name);
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  // llama-quantize's aliases for the medium mixes.
  if (upper == "Q3_K") upper = "Q3_K_M";
  if (upper == "Q4_K") upper = "Q4_K_M";
  if (upper == "Q5_K") upper = "Q5_K_M";
  for (const auto& i : kFileTypes) {
    if (i.name == upper) return i.type;
  }
  return std::nullopt;
}

std::string_view file_type_name(FileType t) {
  return info_of(t).name;
}

std::vector<std::string_view> file_type_names() {
  std::vector<std::string_view> v;
  for (const auto& i : kFileTypes) v.push_back(i.name);
  return v;
}

Result<std::vector<TensorPlan>> plan_quantization(const gguf::File& in, FileType ft) {
  const TensorType base = info_of(ft).base;
  ModelInfo m;
  m.arch = in.architecture();
  const std::string p = m.arch + ".";
  m.n_layer = static_cast<int>(get_int_or(in, p + "block_count", 0));
  m.n_expert = static_cast<int>(get_int_or(in, p + "expert_count", 0));
  const int64_t n_head = get_int_or(in, p + "attention.head_count", 0);
  const int64_t n_head_kv = get_int_or(in, p + "attention.head_count_kv", n_head);
  m.n_gqa = n_head_kv > 0 ? static_cast<int>(n_head / n_head_kv) : 1;
  // llama.cpp's LLM_TYPE_70B: an 80-layer llama with grouped-query attention.
  m.is_70b = m.arch == "llama" && m.n_layer == 80 && n_head != n_head_kv;

  // llama.cpp iterates tensors sorted by (layer, name), non-layer tensors first.
  std::vector<const gguf::Tensor*> order;
  for (const auto& t : in.tensors()) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const gguf::Tensor* a, const gguf::Tensor* b) {
    const int la = layer_of(a->info.name), lb = layer_of(b->info.name);
    if (la != lb) return la < lb;
    return a->info.name < b->info.name;
  });
  for (const auto* t : order) {
    const std::string& name = t->info.name;
    if (contains(name, "attn_v.weight") || contains(name, "attn_qkv.weight") ||
        contains(name, "attn_kv_b.weight")) {
      ++m.n_attention_wv;
    } else if (name == "output.weight") {
      m.has_output = true;
    }
  }

  Counters c;
  std::vector<TensorPlan> plan;
  for (const auto* t : order) {
    TensorPlan e{t->info.name, t->info.type, t->info.type, false};
    if (should_quantize(t->info)) {
      TensorType to = base;
      if (is_quantized(base)) {
        SOV_ASSIGN_OR_RETURN(to, recipe_type(m, c, ft, base, t->info, &e.fallback));
      } else if (t->info.ne[0] % gguf::traits(to).block_size != 0) {
        return Status::unsupported("tensor " + e.name + " rows do not fit " +
                                   std::string(gguf::type_name(to)));
      }
      e.to = to;
    }
    plan.push_back(std::move(e));
  }
  return plan;
}

Status quantize_model(const std::string& in_path, const std::string& out_path,
                      const QuantizeOptions& options) {
  SOV_ASSIGN_OR_RETURN(gguf::File in, gguf::File::open(in_path));
  SOV_ASSIGN_OR_RETURN(std::vector<TensorPlan> plan, plan_quantization(in, options.type));

  gguf::Writer w;
  if (in.alignment() != gguf::kDefaultAlignment) w.set_alignment(in.alignment());
  for (const auto& kv : in.metadata()) {
    if (kv.key == "general.quantization_version" || kv.key == "general.file_type" || kv.key == "split.no" ||
        kv.key == "split.count" || kv.key == "split.tensors.count") {
      continue;
    }
    w.set(kv.key, kv.value);
  }
  // Set last, as llama-quantize does (its setters remove and re-append the keys).
  w.set("general.quantization_version", uint32_t{2});
  w.set("general.file_type", static_cast<uint32_t>(options.type));

  std::deque<std::vector<uint8_t>> converted;  // owned bytes of converted tensors
  const int n_threads = options.pool != nullptr ? options.pool->size() : 1;
  std::vector<std::vector<float>> row_buffers(n_threads);
  for (size_t idx = 0; idx < plan.size(); ++idx) {
    const TensorPlan& e = plan[idx];
    const gguf::Tensor* t = in.find_tensor(e.name);
    std::vector<int64_t> shape(t->info.ne, t->info.ne + t->info.n_dims);
    if (e.to == e.from) {
      SOV_RETURN_IF_ERROR(w.add_tensor_view(e.name, e.to, shape, std::span(t->data, t->info.n_bytes)));
    } else {
      if (is_quantized(e.from) && !options.allow_requantize) {
        return Status::invalid_argument("tensor " + e.name + " is already quantized (" +
                                        std::string(gguf::type_name(e.from)) +
                                        "); re-quantizing loses precision, allow it explicitly");
      }
      if (!can_dequantize(e.from)) {
        return Status::unsupported("tensor " + e.name + " has type " + std::string(gguf::type_name(e.from)) +
                                   ", which cannot be converted");
      }
      const int64_t n = t->info.ne[0];
      const int64_t rows = t->info.n_rows();
      const size_t in_row = *gguf::row_bytes(e.from, n);
      const size_t out_row = *gguf::row_bytes(e.to, n);
      auto& out = converted.emplace_back(out_row * static_cast<size_t>(rows));
      struct Ctx {
        const TensorPlan* e;
        const uint8_t* src;
        uint8_t* dst;
        int64_t n;
        size_t in_row, out_row;
        std::vector<std::vector<float>>* buffers;
      } ctx{&e, t->data, out.data(), n, in_row, out_row, &row_buffers};
      auto convert = [&ctx](size_t r0, size_t r1, int thread) {
        std::vector<float>& buf = (*ctx.buffers)[thread];
        if (ctx.e->from != TensorType::kF32 && buf.size() < static_cast<size_t>(ctx.n)) buf.resize(ctx.n);
        for (size_t r = r0; r < r1; ++r) {
          const uint8_t* src = ctx.src + r * ctx.in_row;
          const float* x = reinterpret_cast<const float*>(src);
          if (ctx.e->from != TensorType::kF32) {
            (void)dequantize_row(ctx.e->from, src, buf.data(), ctx.n);  // type and length checked above
            x = buf.data();
          }
          (void)quantize_row(ctx.e->to, x, ctx.dst + r * ctx.out_row, ctx.n);
        }
      };
      if (options.pool != nullptr) {
        options.pool->parallel_for(static_cast<size_t>(rows), convert, 16);
      } else {
        convert(0, static_cast<size_t>(rows), 0);
      }
      SOV_RETURN_IF_ERROR(w.add_tensor_view(e.name, e.to, shape, out));
    }
    if (options.progress) options.progress(idx, plan.size(), e);
  }
  return w.write(out_path);
}

}  // namespace sov::quant
