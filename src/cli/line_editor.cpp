#include "cli/line_editor.h"

#include <histedit.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cwchar>

namespace sov::cli {

struct LineEditor::Impl {
  EditLine* el = nullptr;
  History* hist = nullptr;
  HistEvent ev{};
  const std::atomic<bool>* interrupted = nullptr;
  std::string history_file;
  std::string prompt;
  bool saw_interrupt = false;

  ~Impl() {
    if (el) el_end(el);
    if (hist) history_end(hist);
  }
};

namespace {

LineEditor::Impl* impl_of(EditLine* el) {
  void* data = nullptr;
  el_get(el, EL_CLIENTDATA, &data);
  return static_cast<LineEditor::Impl*>(data);
}

char* prompt_of(EditLine* el) {
  return impl_of(el)->prompt.data();
}

// Reads one character from the terminal. Our own reader (instead of libedit's) so that a
// SIGINT ends the read at once: libedit retries an interrupted read once before giving up.
int read_char(EditLine* el, wchar_t* out) {
  LineEditor::Impl* impl = impl_of(el);
  std::mbstate_t state{};
  while (true) {
    if (impl->interrupted->load()) {
      impl->saw_interrupt = true;
      return -1;
    }
    char byte = 0;
    ssize_t n = ::read(STDIN_FILENO, &byte, 1);
    if (n < 0) {
      if (errno == EINTR) continue;  // the flag decides
      return -1;
    }
    if (n == 0) return 0;
    wchar_t wc = 0;
    size_t used = std::mbrtowc(&wc, &byte, 1, &state);
    if (used == static_cast<size_t>(-2)) continue;  // more bytes of this character
    if (used == static_cast<size_t>(-1)) {          // not valid in the locale: skip it
      state = std::mbstate_t{};
      continue;
    }
    *out = wc;
    return 1;
  }
}

}  // namespace

LineEditor::LineEditor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LineEditor::~LineEditor() = default;

Result<std::unique_ptr<LineEditor>> LineEditor::open(const char* program, int output_fd,
                                                     const std::atomic<bool>* interrupted,
                                                     std::string history_file) {
  if (!isatty(STDIN_FILENO)) return Status::invalid_argument("the input is not a terminal");
  // libedit decodes input by the locale: make sure it is a UTF-8 one.
  std::setlocale(LC_CTYPE, "");
  if (MB_CUR_MAX == 1) std::setlocale(LC_CTYPE, "C.UTF-8");

  auto impl = std::make_unique<Impl>();
  impl->interrupted = interrupted;
  impl->history_file = std::move(history_file);
  FILE* out = output_fd == STDERR_FILENO ? stderr : stdout;
  impl->el = el_init(program, stdin, out, stderr);
  impl->hist = history_init();
  if (!impl->el || !impl->hist) return Status::internal("cannot start the line editor");
  history(impl->hist, &impl->ev, H_SETSIZE, 1000);
  history(impl->hist, &impl->ev, H_SETUNIQUE, 1);
  if (!impl->history_file.empty()) history(impl->hist, &impl->ev, H_LOAD, impl->history_file.c_str());
  el_set(impl->el, EL_CLIENTDATA, impl.get());
  el_set(impl->el, EL_EDITOR, "emacs");
  el_set(impl->el, EL_SIGNAL, 0);
  el_set(impl->el, EL_HIST, history, impl->hist);
  el_set(impl->el, EL_PROMPT, prompt_of);
  el_set(impl->el, EL_GETCFN, read_char);
  el_source(impl->el, nullptr);  // the user's ~/.editrc, if any
  return std::unique_ptr<LineEditor>(new LineEditor(std::move(impl)));
}

LineEditor::Event LineEditor::read(const std::string& prompt, std::string* line) {
  impl_->prompt = prompt;
  impl_->saw_interrupt = false;
  int count = 0;
  const char* text = el_gets(impl_->el, &count);
  if (impl_->saw_interrupt || (!text && impl_->interrupted->load())) {
    el_reset(impl_->el);  // drop the half-typed line, terminal back to normal
    return Event::kInterrupted;
  }
  if (!text || count <= 0) return Event::kEof;
  line->assign(text, static_cast<size_t>(count));
  if (!line->empty() && line->back() == '\n') line->pop_back();
  return Event::kLine;
}

void LineEditor::remember(const std::string& input) {
  if (input.empty()) return;
  history(impl_->hist, &impl_->ev, H_ENTER, input.c_str());
  if (!impl_->history_file.empty()) history(impl_->hist, &impl_->ev, H_SAVE, impl_->history_file.c_str());
}

}  // namespace sov::cli
