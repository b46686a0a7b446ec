#include "server/model_manager.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/log.h"
#include "server/model_config.h"

namespace sov::server {
namespace {

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

// Far enough to mean "never", small enough not to overflow time points.
constexpr auto kMaxKeepAlive = std::chrono::hours(24 * 365 * 100);

std::string gib(uint64_t bytes) {
  return fmt::format("{:.2f} GiB", static_cast<double>(bytes) / (1ull << 30));
}

}  // namespace

// model_manager_embed.cpp
Result<bool> is_encoder_file(const std::string& path);
Status not_generative(const std::string& name);

ModelLease::~ModelLease() {
  if (manager_ && runner_) manager_->release(runner_, keep_alive_);
}

ModelManager::ModelManager(const ServerConfig& config, const ModelResolver& resolver)
    : config_(config), resolver_(resolver) {
  reaper_ = std::thread([this] { reap(); });
}

ModelManager::~ModelManager() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  std::vector<std::unique_ptr<Entry>> entries;
  {
    std::lock_guard lock(mu_);
    entries.swap(entries_);
  }
  entries.clear();  // destroys the runners outside the lock
}

int32_t ModelManager::default_ctx(int64_t trained) const {
  int64_t c = config_.context_length > 0 ? config_.context_length : 4096;
  if (trained > 0) c = std::min(c, trained);
  return static_cast<int32_t>(c);
}

Result<std::shared_ptr<ModelLease>> ModelManager::acquire(std::string_view name, int32_t num_ctx,
                                                          KeepAlive keep_alive) {
  return acquire_impl(name, num_ctx, keep_alive, /*embedding=*/false);
}

Result<std::shared_ptr<ModelLease>> ModelManager::acquire_impl(std::string_view name, int32_t num_ctx,
                                                               KeepAlive keep_alive, bool embedding) {
  if (num_ctx < 0) return Status::invalid_argument("num_ctx must be positive");
  SOV_ASSIGN_OR_RETURN(ModelEntry entry, resolver_.resolve(name));
  auto want_ctx = [&](int64_t trained) -> Result<int32_t> {
    if (num_ctx > 0 && trained > 0 && num_ctx > trained) {
      return Status::invalid_argument(
          fmt::format("num_ctx {} is larger than the context model \"{}\" was trained for ({})", num_ctx,
                      entry.name, trained));
    }
    return num_ctx > 0 ? num_ctx : default_ctx(trained);
  };
  // Fast path: loaded with enough context.
  auto find_loaded = [&]() -> Result<std::shared_ptr<Runner>> {
    std::lock_guard lock(mu_);
    for (auto& e : entries_) {
      if (e->retired || !e->runner->entry.same_model(entry)) continue;
      if (e->runner->embedding_only()) {
        if (!embedding) return not_generative(entry.name);
        ++e->leases;
        e->last_used = ++use_clock_;
        return e->runner;
      }
      SOV_ASSIGN_OR_RETURN(int32_t want, want_ctx(e->runner->model->hparams().n_ctx_train));
      if (want > e->runner->n_ctx) return std::shared_ptr<Runner>();
      ++e->leases;
      e->last_used = ++use_clock_;
      return e->runner;
    }
    return std::shared_ptr<Runner>();
  };
  SOV_ASSIGN_OR_RETURN(auto runner, find_loaded());
  if (runner) return std::shared_ptr<ModelLease>(new ModelLease(this, runner, keep_alive, 0));

  std::lock_guard load_lock(load_mu_);
  SOV_ASSIGN_OR_RETURN(runner, find_loaded());  // loaded while we waited
  if (runner) return std::shared_ptr<ModelLease>(new ModelLease(this, runner, keep_alive, 0));

  // Encoder-only models (bert, nomic-bert) only embed: no scheduler, no generation.
  SOV_ASSIGN_OR_RETURN(bool encoder, is_encoder_file(entry.path));
  if (encoder) {
    if (!embedding) return not_generative(entry.name);
    return load_encoder(entry, keep_alive);
  }
  const auto t0 = SteadyClock::now();
  // Reuse the weights of a runner of the same file (memory-mapped, shared): one with a
  // smaller context, or another store model with the same weights blob.
  std::shared_ptr<const engine::Model> model;
  {
    std::lock_guard lock(mu_);
    for (auto& e : entries_) {
      if (!e->retired && e->runner->entry.path == entry.path) model = e->runner->model;
    }
  }
  if (!model) {
    SOV_ASSIGN_OR_RETURN(model, engine::Model::load(entry.path));
  }
  SOV_ASSIGN_OR_RETURN(int32_t n_ctx, want_ctx(model->hparams().n_ctx_train));

  scheduler::SchedulerParams sp;
  sp.n_ctx = n_ctx;
  sp.n_batch = config_.n_batch;
  sp.n_threads = config_.n_threads;
  sp.max_queue = config_.max_queue;
  sp.kv_type = config_.kv_cache_type;
  sp.gate = &gate_;
  sp.n_slots = config_.num_parallel > 0 ? config_.num_parallel : 4;
  if (config_.num_parallel <= 0) {
    // Automatic: up to 4 slots while their KV cache takes at most half of what the budget
    // leaves next to the weights.
    const uint64_t room = config_.memory_budget > entry.size ? config_.memory_budget - entry.size : 0;
    while (sp.n_slots > 1 && scheduler::Scheduler::estimate_context_bytes(model->hparams(), sp) > room / 2) {
      sp.n_slots /= 2;
    }
  }
  const uint64_t need = entry.size + scheduler::Scheduler::estimate_context_bytes(model->hparams(), sp);
  std::vector<std::shared_ptr<Runner>> evicted;
  {
    std::lock_guard lock(mu_);
    SOV_ASSIGN_OR_RETURN(evicted, make_room_locked(need));
  }
  for (auto& r : evicted) log::info("unloaded model {} to make room", r->entry.name);
  evicted.clear();

  auto r = std::make_shared<Runner>();
  r->entry = entry;
  r->model = model;
  r->info = read_model_info(model->file());
  SOV_ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::from_gguf(model->file()));
  r->tokenizer = std::shared_ptr<const tokenizer::Tokenizer>(std::move(tok));
  // A Jinja TEMPLATE from the model's manifest replaces the file's chat template (Go
  // templates are handled by prompt.cpp).
  if (is_jinja_template(entry.template_text)) r->info.chat_template = entry.template_text;
  if (!r->info.chat_template.empty()) {
    const auto& t = *r->tokenizer;
    std::string bos = t.bos() >= 0 ? t.piece(t.bos()) : "";
    std::string eos = t.eos() >= 0 ? t.piece(t.eos()) : "";
    auto parsed = chat::ChatTemplate::parse(r->info.chat_template, bos, eos);
    if (parsed) {
      r->chat_template.emplace(std::move(parsed).value());
    } else {
      log::warn("model {}: its chat template does not parse ({}); using the default template", entry.name,
                parsed.status().message());
    }
  }
  SOV_ASSIGN_OR_RETURN(r->scheduler, scheduler::Scheduler::create(model, r->tokenizer, sp));
  r->n_ctx = r->scheduler->n_ctx();
  r->size_bytes = entry.size + r->scheduler->context_bytes();
  const int64_t load_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - t0).count();
  log::info("loaded model {} ({}, context {}, {} parallel) in {:.1f} ms", entry.name, gib(r->size_bytes),
            r->n_ctx, sp.n_slots, load_ns / 1e6);

  std::vector<std::unique_ptr<Entry>> dropped;
  {
    std::lock_guard lock(mu_);
    // A smaller-context runner of the same file is replaced: it finishes its requests first.
    for (auto it = entries_.begin(); it != entries_.end();) {
      Entry& e = **it;
      if (!e.retired && e.runner->entry.same_model(entry)) {
        e.retired = true;
        if (e.leases == 0) {
          dropped.push_back(std::move(*it));
          it = entries_.erase(it);
          continue;
        }
      }
      ++it;
    }
    auto e = std::make_unique<Entry>();
    e->runner = r;
    e->leases = 1;
    e->last_used = ++use_clock_;
    entries_.push_back(std::move(e));
  }
  return std::shared_ptr<ModelLease>(new ModelLease(this, r, keep_alive, load_ns));
}

Result<std::vector<std::shared_ptr<Runner>>> ModelManager::make_room_locked(uint64_t need) {
  std::vector<std::shared_ptr<Runner>> out;
  if (need > config_.memory_budget) {
    return Status::unsupported(fmt::format("the model needs about {} but the memory budget is {}", gib(need),
                                           gib(config_.memory_budget)));
  }
  auto used = [&] {
    uint64_t u = 0;
    for (auto& e : entries_) u += e->runner->size_bytes;
    return u;
  };
  auto count = [&] {
    int n = 0;
    for (auto& e : entries_) n += e->retired ? 0 : 1;
    return n;
  };
  auto too_full = [&] {
    return used() + need > config_.memory_budget ||
           (config_.max_loaded_models > 0 && count() + 1 > config_.max_loaded_models);
  };
  while (too_full()) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if ((*it)->leases == 0 && (victim == entries_.end() || (*it)->last_used < (*victim)->last_used))
        victim = it;
    }
    if (victim == entries_.end()) {
      return Status::resource_exhausted(
          "not enough memory to load the model while the loaded models are busy; try again later");
    }
    out.push_back((*victim)->runner);
    entries_.erase(victim);
  }
  return out;
}

void ModelManager::release(const std::shared_ptr<Runner>& runner, KeepAlive keep_alive) {
  std::vector<std::unique_ptr<Entry>> dropped;
  {
    std::lock_guard lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      Entry& e = **it;
      if (e.runner != runner) continue;
      --e.leases;
      e.last_used = ++use_clock_;
      e.forever = keep_alive.forever;
      const auto d = std::min<std::chrono::nanoseconds>(keep_alive.duration, kMaxKeepAlive);
      e.expires = SteadyClock::now() + d;
      e.expires_wall = SystemClock::now() + std::chrono::duration_cast<SystemClock::duration>(d);
      // Unload right away (keep_alive 0, or a replaced runner) so that the client's next
      // request already sees it gone.
      if (e.leases == 0 && (e.retired || (!e.forever && d.count() == 0))) {
        dropped.push_back(std::move(*it));
        entries_.erase(it);
      }
      break;
    }
  }
  for (auto& e : dropped) log::info("unloaded model {}", e->runner->entry.name);
  cv_.notify_all();
}

bool ModelManager::unload(std::string_view name) {
  auto entry = resolver_.resolve(name);
  if (!entry) return false;
  std::vector<std::unique_ptr<Entry>> dropped;
  bool found = false;
  {
    std::lock_guard lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      Entry& e = **it;
      if (e.runner->entry.same_model(*entry)) {
        found = true;
        if (e.leases == 0) {
          dropped.push_back(std::move(*it));
          it = entries_.erase(it);
          continue;
        }
        e.forever = false;
        e.expires = SteadyClock::now();
        e.expires_wall = SystemClock::now();
      }
      ++it;
    }
  }
  cv_.notify_all();
  return found;
}

void ModelManager::unload_path(const std::string& path) {
  std::vector<std::unique_ptr<Entry>> dropped;
  {
    std::lock_guard lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if ((*it)->runner->entry.path == path && (*it)->leases == 0) {
        dropped.push_back(std::move(*it));
        it = entries_.erase(it);
        continue;
      }
      if ((*it)->runner->entry.path == path) (*it)->retired = true;  // freed when its requests end
      ++it;
    }
  }
}

std::vector<LoadedModel> ModelManager::loaded() const {
  std::vector<LoadedModel> out;
  std::lock_guard lock(mu_);
  for (const auto& e : entries_) {
    if (e->retired) continue;
    LoadedModel m;
    m.entry = e->runner->entry;
    m.info = e->runner->info;
    m.size_bytes = e->runner->size_bytes;
    m.n_ctx = e->runner->n_ctx;
    m.n_slots = e->runner->scheduler ? e->runner->scheduler->n_slots() : 1;
    m.forever = e->forever;
    m.busy = e->leases > 0;
    m.expires_at = e->leases > 0 ? SystemClock::now() + std::chrono::duration_cast<SystemClock::duration>(
                                                            std::min<std::chrono::nanoseconds>(
                                                                config_.keep_alive.duration, kMaxKeepAlive))
                                 : e->expires_wall;
    if (m.forever) m.expires_at = SystemClock::now() + kMaxKeepAlive;
    if (e->runner->scheduler) m.stats = e->runner->scheduler->stats();
    out.push_back(std::move(m));
  }
  return out;
}

void ModelManager::reap() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(250));
    if (stop_) break;
    const auto now = SteadyClock::now();
    std::vector<std::unique_ptr<Entry>> dropped;
    for (auto it = entries_.begin(); it != entries_.end();) {
      Entry& e = **it;
      if (e.leases == 0 && (e.retired || (!e.forever && now >= e.expires))) {
        dropped.push_back(std::move(*it));
        it = entries_.erase(it);
        continue;
      }
      ++it;
    }
    if (dropped.empty()) continue;
    lock.unlock();
    for (auto& e : dropped) log::info("model {} expired and was unloaded", e->runner->entry.name);
    dropped.clear();
    lock.lock();
  }
}

}  // namespace sov::server
