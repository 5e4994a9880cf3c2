// Child processes for tests (see subprocess.h): posix_spawn into a new process group, with
// termination of the whole group and reaping on every path.
#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "tests/support/free_port.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX global

namespace s3mount::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollStep{10};

Error ErrnoError(ErrorCode code, const std::string& what, int err = errno) {
  return MakeError(code, what + ": " + std::strerror(err));
}

std::string JoinArgv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    out += arg;
  }
  return out;
}

// Owns the strings and the char* arrays posix_spawn wants.
class SpawnArgs {
 public:
  SpawnArgs(const std::vector<std::string>& argv, const EnvOverrides& overrides) {
    args_ = argv;
    std::map<std::string, std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string entry(*e);
      auto eq = entry.find('=');
      if (eq == std::string::npos) continue;
      env[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [name, value] : overrides) env[name] = value;
    for (const auto& [name, value] : env)
      env_.push_back(std::string(name).append("=").append(value));
    for (auto& arg : args_) argv_ptrs_.push_back(arg.data());
    argv_ptrs_.push_back(nullptr);
    for (auto& entry : env_) env_ptrs_.push_back(entry.data());
    env_ptrs_.push_back(nullptr);
  }
  char* const* Argv() { return argv_ptrs_.data(); }
  char* const* Envp() { return env_ptrs_.data(); }

 private:
  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::vector<char*> argv_ptrs_;
  std::vector<char*> env_ptrs_;
};

struct FileActions {
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t actions;
};

struct SpawnAttr {
  SpawnAttr() { posix_spawnattr_init(&attr); }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  posix_spawnattr_t attr;
};

// Spawns argv with fds 0, 1, 2 taken from `stdio` in a new process group whose id is the
// child's pid, with default signal dispositions and an empty signal mask.
Result<pid_t> SpawnInGroup(const std::vector<std::string>& argv, const EnvOverrides& env,
                           const std::array<int, 3>& stdio) {
  if (argv.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty argv");
  FileActions files;
  for (int target = 0; target < 3; ++target) {
    posix_spawn_file_actions_adddup2(&files.actions, stdio[target], target);
  }
  posix_spawn_file_actions_addclosefrom_np(&files.actions, 3);
  SpawnAttr attr;
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, sig);
  }
  posix_spawnattr_setpgroup(&attr.attr, 0);
  posix_spawnattr_setsigmask(&attr.attr, &empty);
  posix_spawnattr_setsigdefault(&attr.attr, &defaults);
  posix_spawnattr_setflags(&attr.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  SpawnArgs args(argv, env);
  pid_t pid = -1;
  int rc =
      posix_spawnp(&pid, argv[0].c_str(), &files.actions, &attr.attr, args.Argv(), args.Envp());
  if (rc != 0) {
    return ErrnoError(ErrorCode::kInvalidArgument, "cannot start `" + JoinArgv(argv) + "`", rc);
  }
  return pid;
}

// Like SpawnInGroup, but with fork/exec so the child can ask for SIGKILL when the thread that
// started it exits (PR_SET_PDEATHSIG): a crashed or killed test binary leaves no server
// behind. Only async-signal-safe calls happen between fork and exec.
Result<pid_t> ForkInGroupWithDeathSignal(const std::vector<std::string>& argv,
                                         const EnvOverrides& env, const std::array<int, 3>& stdio) {
  if (argv.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty argv");
  SpawnArgs args(argv, env);
  std::array<int, 2> status_pipe{};  // carries exec's errno; EOF means exec succeeded
  if (::pipe2(status_pipe.data(), O_CLOEXEC) != 0) {
    return ErrnoError(ErrorCode::kUnknown, "pipe");
  }
  UniqueFd status_read(status_pipe[0]);
  UniqueFd status_write(status_pipe[1]);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError(ErrorCode::kUnknown, "fork");
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    for (int target = 0; target < 3; ++target) ::dup2(stdio[target], target);
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    sigset_t empty;
    sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
      ::signal(sig, SIG_DFL);
    }
    ::execvpe(args.Argv()[0], args.Argv(), args.Envp());
    int err = errno;
    [[maybe_unused]] ssize_t n = ::write(status_write.get(), &err, sizeof(err));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so the group exists before we signal it
  status_write.Reset();
  int err = 0;
  ssize_t n = 0;
  do {
    n = ::read(status_read.get(), &err, sizeof(err));
  } while (n < 0 && errno == EINTR);
  if (n == sizeof(err)) {
    int ignored = 0;
    ::waitpid(pid, &ignored, 0);
    return ErrnoError(ErrorCode::kInvalidArgument, "cannot start `" + JoinArgv(argv) + "`", err);
  }
  return pid;
}

int WaitBlocking(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Whether `pid` has exited, without reaping it.
bool HasExited(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == ECHILD;
  return info.si_pid != 0;
}

// Waits until `pid` exits (not reaping it) or the deadline passes.
bool WaitForExitUntil(pid_t pid, Clock::time_point deadline) {
  while (!HasExited(pid)) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollStep);
  }
  return true;
}

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Reads both pipes until EOF on both or the deadline. Returns false on timeout.
bool DrainPipes(int out_fd, int err_fd, Clock::time_point deadline, CommandResult* result) {
  std::array<pollfd, 2> fds{pollfd{out_fd, POLLIN, 0}, pollfd{err_fd, POLLIN, 0}};
  std::array<std::string*, 2> sinks{&result->stdout_text, &result->stderr_text};
  int open_count = 2;
  std::array<char, 16384> buf{};
  while (open_count > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) return false;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf.data(), buf.size());
      if (got > 0) {
        sinks[i]->append(buf.data(), static_cast<size_t>(got));
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  return true;
}

// stdin for RunCommand: an anonymous in-memory file holding `data` (no pipe, so no SIGPIPE
// and no deadlock when the child does not read it).
Result<UniqueFd> MakeStdin(const std::string& data) {
  if (data.empty()) {
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoError(ErrorCode::kUnknown, "open /dev/null");
    return fd;
  }
  UniqueFd fd(::memfd_create("s3mount-test-stdin", MFD_CLOEXEC));
  if (!fd.valid()) return ErrnoError(ErrorCode::kUnknown, "memfd_create");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoError(ErrorCode::kUnknown, "write stdin file");
    done += static_cast<size_t>(n);
  }
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

void FillExitStatus(int status, CommandResult* result) {
  if (WIFEXITED(status)) {
    result->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result->term_signal = WTERMSIG(status);
  }
}

}  // namespace

Result<std::unique_ptr<TempDir>> TempDir::Create(std::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" +
                        std::string(prefix) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return ErrnoError(ErrorCode::kUnknown, "mkdtemp " + pattern);
  }
  return std::unique_ptr<TempDir>(new TempDir(pattern));
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::File(std::string_view name) const { return path_ + "/" + std::string(name); }

Result<std::unique_ptr<Subprocess>> Subprocess::Start(const SubprocessOptions& options) {
  if (options.log_path.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "Subprocess needs a log_path");
  }
  UniqueFd log(::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log.valid()) return ErrnoError(ErrorCode::kUnknown, "open " + options.log_path);
  UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_in.valid()) return ErrnoError(ErrorCode::kUnknown, "open /dev/null");
  auto pid =
      ForkInGroupWithDeathSignal(options.argv, options.env, {null_in.get(), log.get(), log.get()});
  if (!pid.ok()) return std::move(pid).error();
  return std::unique_ptr<Subprocess>(
      new Subprocess(*pid, options.log_path, JoinArgv(options.argv)));
}

Subprocess::~Subprocess() { Stop(); }

bool Subprocess::Running() const { return !reaped_ && !HasExited(pid_); }

int Subprocess::Stop(std::chrono::milliseconds grace) {
  if (reaped_) return -1;
  if (!HasExited(pid_)) {
    ::kill(-pid_, SIGTERM);
    WaitForExitUntil(pid_, Clock::now() + grace);
  }
  // The leader is not reaped yet, so its pid (= the group id) cannot have been reused: this
  // only reaches our group, killing anything the child left behind.
  ::kill(-pid_, SIGKILL);
  int status = WaitBlocking(pid_);
  reaped_ = true;
  return status;
}

std::string Subprocess::LogTail(std::size_t max_bytes) const {
  return ReadFileTail(log_path_, max_bytes);
}

std::string CommandResult::Describe() const {
  std::string out = term_signal != 0 ? "killed by signal " + std::to_string(term_signal)
                                     : "exit code " + std::to_string(exit_code);
  if (!stderr_text.empty()) out += "; stderr: " + stderr_text;
  return out;
}

Result<CommandResult> RunCommand(const CommandOptions& options) {
  auto deadline = Clock::now() + options.timeout;
  auto in = MakeStdin(options.stdin_data);
  if (!in.ok()) return std::move(in).error();
  std::array<int, 2> out_pipe{};
  std::array<int, 2> err_pipe{};
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0) return ErrnoError(ErrorCode::kUnknown, "pipe");
  UniqueFd out_read(out_pipe[0]);
  UniqueFd out_write(out_pipe[1]);
  if (::pipe2(err_pipe.data(), O_CLOEXEC) != 0) return ErrnoError(ErrorCode::kUnknown, "pipe");
  UniqueFd err_read(err_pipe[0]);
  UniqueFd err_write(err_pipe[1]);

  auto pid = SpawnInGroup(options.argv, options.env, {in->get(), out_write.get(), err_write.get()});
  if (!pid.ok()) return std::move(pid).error();
  out_write.Reset();
  err_write.Reset();
  SetNonBlocking(out_read.get());
  SetNonBlocking(err_read.get());

  CommandResult result;
  bool finished = DrainPipes(out_read.get(), err_read.get(), deadline, &result) &&
                  WaitForExitUntil(*pid, deadline);
  if (!finished) {
    ::kill(-*pid, SIGKILL);
    WaitBlocking(*pid);
    return MakeError(ErrorCode::kTimeout, "`" + JoinArgv(options.argv) + "` timed out after " +
                                              std::to_string(options.timeout.count()) +
                                              " ms; stderr so far: " + result.stderr_text);
  }
  FillExitStatus(WaitBlocking(*pid), &result);
  return result;
}

std::string ReadFileTail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::size_t>(in.tellg());
  std::size_t start = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string out(size - start, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

}  // namespace s3mount::testing
