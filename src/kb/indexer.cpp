#include "kb/indexer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "kb/extract.h"
#include "kb/ignore.h"
#include "store/digest.h"

namespace sov::kb {
namespace {

namespace fs = std::filesystem;

constexpr size_t kEmbedBatch = 16;
constexpr const char* kIgnoreFiles[] = {".gitignore", ".sovignore"};

struct FileEntry {
  std::string path;
  int64_t size = 0;
  int64_t mtime_ns = 0;
};

int64_t mtime_ns_of(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

Result<std::string> read_file(const std::string& path, int64_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::io_error(std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Status::io_error(std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (static_cast<int64_t>(out.size()) > limit) {
      ::close(fd);
      return Status::out_of_range("grew past the size limit while reading");
    }
  }
  ::close(fd);
  return out;
}

bool read_small_file(const std::string& path, std::string* out) {
  auto r = read_file(path, 1 << 20);
  if (!r) return false;
  *out = std::move(r).value();
  return true;
}

class Walker {
 public:
  Walker(std::vector<FileEntry>* files, std::vector<SkippedFile>* skipped)
      : files_(files), skipped_(skipped) {}

  void walk_root(const std::string& root) {
    struct stat st;
    if (::stat(root.c_str(), &st) != 0) {
      skipped_->push_back({root, fmt::format("cannot access: {}", std::strerror(errno))});
      return;
    }
    if (S_ISREG(st.st_mode)) {
      files_->push_back({root, static_cast<int64_t>(st.st_size), mtime_ns_of(st)});
    } else if (S_ISDIR(st.st_mode)) {
      IgnoreRules rules;
      walk_dir(root, "", &rules, 0);
    } else {
      skipped_->push_back({root, "not a regular file or folder"});
    }
  }

 private:
  void walk_dir(const std::string& abs, const std::string& rel, IgnoreRules* rules, int depth) {
    if (depth > 64) {
      skipped_->push_back({abs, "folders nested too deeply"});
      return;
    }
    for (const char* name : kIgnoreFiles) {
      std::string text;
      if (read_small_file(abs + "/" + name, &text)) rules->add(text, rel);
    }
    std::vector<std::string> names;
    std::error_code ec;
    for (auto it = fs::directory_iterator(abs, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      names.push_back(it->path().filename().string());
    if (ec) {
      skipped_->push_back({abs, "cannot list: " + ec.message()});
      return;
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      if (name == ".git" || name == ".hg" || name == ".svn") continue;  // version control internals
      std::string child_abs = abs == "/" ? "/" + name : abs + "/" + name;
      std::string child_rel = rel.empty() ? name : rel + "/" + name;
      struct stat st;
      if (::lstat(child_abs.c_str(), &st) != 0) {
        skipped_->push_back({child_abs, fmt::format("cannot access: {}", std::strerror(errno))});
        continue;
      }
      if (S_ISLNK(st.st_mode)) {
        skipped_->push_back({child_abs, "symbolic link (not followed)"});
        continue;
      }
      bool dir = S_ISDIR(st.st_mode);
      if (rules->ignored(child_rel, dir)) {
        skipped_->push_back({child_abs, "ignored (.gitignore/.sovignore)"});
        continue;
      }
      if (!dir && (name == ".gitignore" || name == ".sovignore")) {
        skipped_->push_back({child_abs, "ignore file"});
        continue;
      }
      if (dir) {
        walk_dir(child_abs, child_rel, rules, depth + 1);
      } else if (S_ISREG(st.st_mode)) {
        files_->push_back({child_abs, static_cast<int64_t>(st.st_size), mtime_ns_of(st)});
      } else {
        skipped_->push_back({child_abs, "not a regular file"});
      }
    }
  }

  std::vector<FileEntry>* files_;
  std::vector<SkippedFile>* skipped_;
};

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Chunks (and vectors when an embedder is given) for one document's text.
Result<std::vector<KnowledgeBase::NewChunk>> prepare_chunks(const KnowledgeBase& kb, const std::string& text,
                                                            Format format, Embedder* embedder) {
  ChunkOptions co;
  co.max_tokens = kb.settings().chunk_tokens;
  co.overlap_tokens = kb.settings().overlap_tokens;
  TokenCounter counter;
  if (embedder) {
    // Leave room for the heading and the model's special tokens.
    co.max_tokens = std::min(co.max_tokens, std::max(16, embedder->context() - 48));
    counter = [embedder](std::string_view s) { return embedder->count_tokens(s); };
  }
  std::vector<Chunk> chunks = chunk_text(text, format, co, counter);
  std::vector<KnowledgeBase::NewChunk> out;
  out.reserve(chunks.size());
  for (Chunk& c : chunks) out.push_back({std::move(c), {}});
  if (embedder) {
    for (size_t i = 0; i < out.size(); i += kEmbedBatch) {
      std::vector<std::string> texts;
      for (size_t j = i; j < std::min(out.size(), i + kEmbedBatch); ++j)
        texts.push_back(KnowledgeBase::embed_text(out[j].chunk.heading, out[j].chunk.text));
      SOV_ASSIGN_OR_RETURN(auto vectors, embedder->embed(texts));
      for (size_t j = 0; j < vectors.size(); ++j) out[i + j].vector = std::move(vectors[j]);
    }
  }
  return out;
}

}  // namespace

std::string normalise_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (ec) p = path;
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

Result<AddSummary> add_paths(KnowledgeBase& kb, const std::vector<std::string>& paths, Embedder* embedder,
                             const AddOptions& options) {
  AddSummary summary;
  const int64_t limit = options.max_file_bytes > 0 ? options.max_file_bytes : kb.settings().max_file_bytes;
  uint64_t gen = 0;
  if (embedder) {
    if (embedder->dim() != kb.embed_dim())
      return Status::invalid_argument(fmt::format(
          "the embedding model gives {} dimensions but the base holds {}", embedder->dim(), kb.embed_dim()));
    SOV_ASSIGN_OR_RETURN(gen, kb.embed_gen());
    SOV_RETURN_IF_ERROR(kb.vector_index(/*persist=*/false).status());  // in step before incremental updates
  }
  auto report = [&](const std::string& phase, int64_t done, int64_t total, const std::string& path) {
    if (options.progress) options.progress({phase, done, total, path});
  };

  std::vector<std::string> roots;
  for (const std::string& p : paths) roots.push_back(normalise_path(p));
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());

  report("scanning", 0, 0, "");
  std::vector<FileEntry> files;
  Walker walker(&files, &summary.skipped);
  for (const std::string& r : roots) walker.walk_root(r);
  std::sort(files.begin(), files.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  files.erase(std::unique(files.begin(), files.end(),
                          [](const FileEntry& a, const FileEntry& b) { return a.path == b.path; }),
              files.end());

  // What the base holds under the roots; whatever the walk does not find again is gone.
  std::map<std::string, DocumentRow> existing;
  for (const std::string& r : roots) {
    SOV_ASSIGN_OR_RETURN(auto docs, kb.documents_under(r));
    for (auto& d : docs) existing.emplace(d.path, std::move(d));
  }
  std::set<std::string> vanished;
  {
    std::set<std::string> found;
    for (const FileEntry& f : files) found.insert(f.path);
    for (const auto& [path, doc] : existing)
      if (!found.count(path)) vanished.insert(path);
  }
  std::set<int64_t> drop;  // documents whose file became unindexable

  auto last_progress_write = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  const int64_t total = static_cast<int64_t>(files.size());
  int64_t done = 0;
  bool stopped = false;
  for (const FileEntry& f : files) {
    if (options.cancelled && options.cancelled()) {
      stopped = true;
      break;
    }
    report("indexing", done, total, f.path);
    if (auto now = std::chrono::steady_clock::now(); now - last_progress_write > std::chrono::seconds(1)) {
      (void)kb.set_progress("indexing", done, total);
      last_progress_write = now;
    }
    ++done;
    auto it = existing.find(f.path);
    const DocumentRow* row = it == existing.end() ? nullptr : &it->second;
    if (row && row->size == f.size && row->mtime_ns == f.mtime_ns) {
      ++summary.unchanged;
      continue;
    }
    auto skip = [&](std::string reason) {
      summary.skipped.push_back({f.path, std::move(reason)});
      if (row) drop.insert(row->id);
    };
    if (f.size > limit) {
      skip(fmt::format("too large ({} bytes; the limit is {})", f.size, limit));
      continue;
    }
    auto bytes = read_file(f.path, limit);
    if (!bytes) {
      skip("cannot read: " + bytes.status().message());
      continue;
    }
    if (bytes->empty()) {
      skip("empty");
      continue;
    }
    Classification cls = classify(f.path, *bytes);
    if (!cls.indexable) {
      skip(cls.reason);
      continue;
    }
    const std::string hash = store::sha256_of(*bytes).hex();
    if (row && row->hash == hash) {
      SOV_RETURN_IF_ERROR(kb.touch_document(row->id, f.mtime_ns, f.size));
      ++summary.unchanged;
      continue;
    }
    if (!row) {
      // A rename: the same content recorded under a path that is gone.
      SOV_ASSIGN_OR_RETURN(auto same, kb.documents_with_hash(hash));
      const DocumentRow* from = nullptr;
      for (const DocumentRow& d : same) {
        if (vanished.count(d.path) ||
            (d.path.starts_with('/') && existing.find(d.path) == existing.end() && !path_exists(d.path))) {
          from = &d;
          break;
        }
      }
      if (from) {
        SOV_RETURN_IF_ERROR(kb.rename_document(from->id, f.path, f.mtime_ns));
        vanished.erase(from->path);
        ++summary.renamed;
        continue;
      }
    }
    auto text = extract_text(cls, *bytes);
    if (!text) {
      skip(text.status().message());
      continue;
    }
    SOV_ASSIGN_OR_RETURN(auto chunks, prepare_chunks(kb, *text, cls.format, embedder));
    DocumentRow doc{0, f.path, hash, f.mtime_ns, f.size, format_name(cls.format)};
    SOV_RETURN_IF_ERROR(kb.put_document(doc, chunks, gen).status());
    summary.chunks += static_cast<int64_t>(chunks.size());
    summary.bytes += f.size;
    if (row) {
      ++summary.updated;
    } else {
      ++summary.added;
    }
  }
  if (!stopped) {
    int64_t n = 0;
    for (const std::string& path : vanished) {
      report("removing", n++, static_cast<int64_t>(vanished.size()), path);
      SOV_RETURN_IF_ERROR(kb.remove_document(existing.at(path).id));
      ++summary.removed;
    }
  }
  for (int64_t id : drop) {
    SOV_RETURN_IF_ERROR(kb.remove_document(id));
    ++summary.removed;
  }
  report("done", total, total, "");
  SOV_RETURN_IF_ERROR(kb.set_progress("", 0, 0));
  SOV_RETURN_IF_ERROR(kb.flush_vector_index());
  return summary;
}

Result<AddSummary> add_text(KnowledgeBase& kb, const std::string& name, const std::string& text,
                            Embedder* embedder) {
  AddSummary summary;
  uint64_t gen = 0;
  if (embedder) {
    SOV_ASSIGN_OR_RETURN(gen, kb.embed_gen());
    SOV_RETURN_IF_ERROR(kb.vector_index(false).status());
  }
  const std::string path = "text:" + name;
  Classification cls = classify(name, text);
  if (!cls.indexable) return Status::invalid_argument("the document is not text: " + cls.reason);
  if (cls.format == Format::kPdf) return Status::invalid_argument("raw documents must be text");
  const std::string hash = store::sha256_of(text).hex();
  SOV_ASSIGN_OR_RETURN(auto row, kb.find_document(path));
  if (row && row->hash == hash) {
    summary.unchanged = 1;
    return summary;
  }
  SOV_ASSIGN_OR_RETURN(std::string clean, extract_text(cls, text));
  SOV_ASSIGN_OR_RETURN(auto chunks, prepare_chunks(kb, clean, cls.format, embedder));
  int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  DocumentRow doc{0, path, hash, now_ns, static_cast<int64_t>(text.size()), format_name(cls.format)};
  SOV_RETURN_IF_ERROR(kb.put_document(doc, chunks, gen).status());
  (row ? summary.updated : summary.added) = 1;
  summary.chunks = static_cast<int64_t>(chunks.size());
  summary.bytes = static_cast<int64_t>(text.size());
  SOV_RETURN_IF_ERROR(kb.flush_vector_index());
  return summary;
}

Result<int64_t> embed_stale(KnowledgeBase& kb, Embedder& embedder, const AddOptions& options) {
  if (embedder.dim() != kb.embed_dim())
    return Status::invalid_argument("the embedding model does not match the base");
  SOV_ASSIGN_OR_RETURN(uint64_t gen, kb.embed_gen());
  SOV_RETURN_IF_ERROR(kb.vector_index(false).status());
  SOV_ASSIGN_OR_RETURN(int64_t total, kb.db().query_int("SELECT count(*) FROM chunks"));
  SOV_ASSIGN_OR_RETURN(
      Stmt cur, kb.db().prepare("SELECT count(*) FROM chunks WHERE embedding IS NOT NULL AND embed_gen = ?"));
  cur.bind(1, static_cast<int64_t>(gen));
  SOV_ASSIGN_OR_RETURN(bool row, cur.step());
  int64_t done = row ? cur.int64(0) : 0;
  cur.reset();
  int64_t embedded = 0, after = 0;
  while (true) {
    if (options.cancelled && options.cancelled()) break;
    SOV_ASSIGN_OR_RETURN(auto batch, kb.stale_chunks(after, 32));
    if (batch.empty()) break;
    std::vector<int64_t> ids;
    std::vector<std::string> texts;
    for (auto& [id, text] : batch) {
      ids.push_back(id);
      texts.push_back(std::move(text));
    }
    SOV_ASSIGN_OR_RETURN(auto vectors, embedder.embed(texts));
    SOV_RETURN_IF_ERROR(kb.put_vectors(ids, vectors, gen));
    after = ids.back();
    embedded += static_cast<int64_t>(ids.size());
    done += static_cast<int64_t>(ids.size());
    (void)kb.set_progress("embedding", done, total);
    if (options.progress) options.progress({"embedding", done, total, ""});
  }
  SOV_RETURN_IF_ERROR(kb.set_progress("", 0, 0));
  SOV_RETURN_IF_ERROR(kb.flush_vector_index());
  return embedded;
}

}  // namespace sov::kb
