// End to end: `sov run` in interactive mode, driven through a pseudo-terminal as a person
// would use it: a prompt, /set parameter, Ctrl-C during an answer (the program stays, the
// partial answer stays in the conversation), a multi-line message that reuses the cached
// prefix, Ctrl-C at the prompt (clears the line), /bye and Ctrl-D, and the input history
// (libedit) kept across sessions.
//
// Every read has a deadline; a child that does not answer in time is killed and the test
// fails with the terminal output so far. The deadlines only bound a hang; no assertion is
// about speed.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "base/testdata.h"

#ifndef SOV_BINARY
#error "SOV_BINARY must name the sov executable"
#endif

namespace {

namespace fs = std::filesystem;
constexpr int kDeadlineMs = 60000;

class Terminal {
 public:
  ~Terminal() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }

  bool start(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    struct winsize ws {};
    ws.ws_row = 50;
    ws.ws_col = 200;
    pid_ = forkpty(&fd_, nullptr, nullptr, &ws);
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      std::vector<char*> argv, envp;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
      argv.push_back(nullptr);
      envp.push_back(nullptr);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    return true;
  }

  void send(const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

  // Reads until `needle` appears after the cursor; moves the cursor past it.
  bool wait_for(const std::string& needle) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDeadlineMs);
    while (true) {
      size_t at = out_.find(needle, cursor_);
      if (at != std::string::npos) {
        cursor_ = at + needle.size();
        return true;
      }
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_some(static_cast<int>(left.count()))) return false;
    }
  }

  // Waits for the child to exit (reading its output meanwhile); -1 on timeout or signal.
  int wait_exit() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDeadlineMs);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      read_some(100);
    }
    return -1;
  }

  // The prompt is printed a moment before libedit puts the terminal in edit mode: wait for
  // that too, or typed keys would meet the normal line discipline (echo, ^D as end of file).
  bool wait_prompt(const std::string& prompt = ">>> ") {
    if (!wait_for(prompt)) return false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDeadlineMs);
    while (std::chrono::steady_clock::now() < deadline) {
      struct termios tio {};
      if (tcgetattr(fd_, &tio) == 0 && (tio.c_lflag & ICANON) == 0) return true;
      read_some(1);
    }
    return false;
  }

  bool alive() {
    int status = 0;
    return pid_ > 0 && waitpid(pid_, &status, WNOHANG) == 0;
  }

  const std::string& output() const { return out_; }
  size_t cursor() const { return cursor_; }

 private:
  bool read_some(int timeout_ms) {
    struct pollfd p {
      fd_, POLLIN, 0
    };
    int r = poll(&p, 1, timeout_ms);
    if (r <= 0) return r == 0 || errno == EINTR;
    char buf[4096];
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) {
      // EIO: the child closed the terminal. Give waitpid a moment instead of spinning.
      usleep(10000);
      return n < 0 && errno == EINTR;
    }
    out_.append(buf, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
  size_t cursor_ = 0;
};

class RunPty : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = sov::test::testdata_dir();
    if (!dir) GTEST_SKIP() << "shared test data not found (SOV_TESTDATA)";
    model_ = *dir + "/models/stories260K.gguf";
    char tmpl[] = "/tmp/sov_run_pty_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    home_ = tmpl;
  }
  void TearDown() override {
    if (!home_.empty()) fs::remove_all(home_);
  }
  std::vector<std::string> env() const {
    return {"HOME=" + home_,      "TERM=dumb",         "LANG=C.UTF-8", "SOV_MODELS=" + home_ + "/models",
            "SOV_OLLAMA_MODELS=", "PATH=/usr/bin:/bin"};
  }
  std::string model_, home_;
};

#define EXPECT_SEEN(term, text)                                                                \
  ASSERT_TRUE((term).wait_for(text)) << "waiting for \"" << (text) << "\"; terminal so far:\n" \
                                     << (term).output()
#define EXPECT_PROMPT(term, ...)                                                               \
  ASSERT_TRUE((term).wait_prompt(__VA_ARGS__)) << "waiting for the prompt; terminal so far:\n" \
                                               << (term).output()

TEST_F(RunPty, ChatStopWithCtrlCAndBye) {
  Terminal t;
  ASSERT_TRUE(t.start({SOV_BINARY, "run", model_, "--verbose", "-t", "1", "--parameter", "num_predict=24",
                       "--parameter", "seed=7"},
                      env()));
  EXPECT_PROMPT(t);

  // A first answer, bounded by num_predict.
  t.send("Once upon a time\r");
  EXPECT_SEEN(t, "done: ");
  EXPECT_PROMPT(t);

  // Greedy from now on, in a fresh conversation, with an answer far longer than the wait.
  t.send("/set parameter temperature 0\r");
  EXPECT_SEEN(t, "Set parameter 'temperature' to '0'");
  EXPECT_PROMPT(t);
  t.send("/set parameter num_predict -1\r");
  EXPECT_PROMPT(t);
  t.send("/set parameter num_ctx 32768\r");
  EXPECT_PROMPT(t);
  t.send("/clear\r");
  EXPECT_SEEN(t, "Cleared");
  EXPECT_PROMPT(t);
  t.send("Tell me a story\r");
  EXPECT_SEEN(t, "Tell me a story");
  EXPECT_SEEN(t, "\n");
  // Wait for the first words of the answer, then interrupt it.
  const size_t answer_start = t.cursor();
  ASSERT_TRUE(t.wait_for(" ")) << t.output();
  t.send("\x03");
  EXPECT_SEEN(t, "done: cancelled");
  EXPECT_PROMPT(t);
  EXPECT_TRUE(t.alive()) << "Ctrl-C ended the program:\n" << t.output();
  EXPECT_GT(t.cursor(), answer_start);

  // The stopped answer is part of the conversation.
  const std::string saved = home_ + "/chat.json";
  t.send("/save " + saved + "\r");
  EXPECT_SEEN(t, "Saved the conversation");
  EXPECT_PROMPT(t);
  std::ifstream in(saved);
  auto conv = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(conv.is_object()) << "no JSON in " << saved;
  ASSERT_EQ(conv["messages"].size(), 2u) << conv.dump();
  EXPECT_EQ(conv["messages"][0]["content"], "Tell me a story");
  EXPECT_EQ(conv["messages"][1]["role"], "assistant");
  EXPECT_FALSE(conv["messages"][1]["content"].get<std::string>().empty());
  EXPECT_EQ(conv["parameters"]["temperature"], 0.0);

  // A multi-line message; the turn reuses the cached conversation.
  t.send("/set parameter num_predict 8\r");
  EXPECT_PROMPT(t);
  t.send("\"\"\"And then\r");
  EXPECT_PROMPT(t, "... ");
  t.send("what happened?\"\"\"\r");
  EXPECT_SEEN(t, "prompt: ");
  ASSERT_TRUE(t.wait_for("done: ")) << t.output();
  std::smatch m;
  const std::string stats = t.output().substr(t.output().rfind("prompt: "));
  ASSERT_TRUE(std::regex_search(stats, m, std::regex(R"(\((\d+) cached\))"))) << stats;
  EXPECT_GT(std::stoi(m[1]), 10) << "the second turn should reuse the cached prefix: " << stats;
  EXPECT_PROMPT(t);

  // Ctrl-C at the prompt clears the line: "/bye" alone follows, and the program exits 0.
  t.send("this line is dropped");
  EXPECT_SEEN(t, "dropped");
  t.send("\x03");
  EXPECT_PROMPT(t);
  t.send("/bye\r");
  EXPECT_EQ(t.wait_exit(), 0) << t.output();
}

TEST_F(RunPty, HistoryIsKeptBetweenSessions) {
  {
    Terminal t;
    ASSERT_TRUE(t.start({SOV_BINARY, "run", model_, "-t", "1"}, env()));
    EXPECT_PROMPT(t);
    t.send("/show system\r");
    EXPECT_SEEN(t, "No system message.");
    EXPECT_PROMPT(t);
    t.send("/bye\r");
    ASSERT_EQ(t.wait_exit(), 0) << t.output();
  }
  std::ifstream in(home_ + "/.sovereign/history");
  std::string history((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(history.find("/bye"), std::string::npos) << history;
  // Ctrl-P recalls the last input of the previous session (/bye), Enter runs it.
  Terminal t;
  ASSERT_TRUE(t.start({SOV_BINARY, "run", model_, "-t", "1"}, env()));
  EXPECT_PROMPT(t);
  t.send("\x10");
  EXPECT_SEEN(t, "/bye");
  t.send("\r");
  EXPECT_EQ(t.wait_exit(), 0) << t.output();
}

TEST_F(RunPty, HelpShowAndCtrlD) {
  Terminal t;
  ASSERT_TRUE(t.start({SOV_BINARY, "run", model_, "--nohistory", "-t", "1"}, env()));
  EXPECT_PROMPT(t);
  t.send("/?\r");
  EXPECT_SEEN(t, "/bye");
  EXPECT_PROMPT(t);
  t.send("/show info\r");
  EXPECT_SEEN(t, "architecture");
  EXPECT_SEEN(t, "llama");
  EXPECT_SEEN(t, "chat template");
  EXPECT_PROMPT(t);
  t.send("/set parameter temperature hot\r");
  EXPECT_SEEN(t, "error: temperature");
  EXPECT_PROMPT(t);
  t.send("\x04");  // Ctrl-D on an empty line
  EXPECT_EQ(t.wait_exit(), 0) << t.output();
}

}  // namespace
