// ProcessCredentialsProvider: runs credential_process and parses its output (see
// process_credentials.h).
#include "s3mount/auth/process_credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "s3mount/auth/credentials_json.h"
#include "s3mount/common/strings.h"
#include "s3mount/common/time_format.h"
#include "s3mount/common/unique_fd.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawn

namespace s3mount {
namespace {

// An owned file descriptor.
struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

std::string Quoted(std::string_view command) {
  return "credential_process '" + std::string(command) + "'";
}

Error ProcessError(std::string_view command, ErrorCode code, std::string_view what) {
  return MakeError(code, Quoted(command) + " " + std::string(what));
}

Result<Pipe> MakePipe(std::string_view command) {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    return ProcessError(command, ErrorCode::kCredentials,
                        std::string("could not start: pipe: ") + std::strerror(errno));
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// posix_spawn's attribute objects, destroyed on scope exit.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attr{};
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// A started child: killed (with its process group) and reaped on destruction unless Wait
// already reaped it.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Reaps the child if it has exited; its wait status then.
  std::optional<int> TryWait() {
    int status = 0;
    pid_t done = 0;
    do {
      done = ::waitpid(pid_, &status, WNOHANG);
    } while (done < 0 && errno == EINTR);
    if (done != pid_) return std::nullopt;
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_;
};

Result<pid_t> Spawn(const std::string& command, const Pipe& out, const Pipe& err) {
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out.write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err.write_end.get(), STDERR_FILENO);
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  sigset_t default_signals;
  sigfillset(&default_signals);
  posix_spawnattr_setsigmask(&setup.attr, &empty_mask);
  posix_spawnattr_setsigdefault(&setup.attr, &default_signals);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string sh = "sh";
  std::string dash_c = "-c";
  std::string command_copy = command;
  std::array<char*, 4> argv = {sh.data(), dash_c.data(), command_copy.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/bin/sh", &setup.actions, &setup.attr, argv.data(), environ);
  if (rc != 0) {
    return ProcessError(command, ErrorCode::kCredentials,
                        std::string("could not start: ") + std::strerror(rc));
  }
  return pid;
}

// Reads what is available on `fd` into `out`; false at end of file or on an error.
bool Drain(int fd, std::string& out) {
  std::array<char, 4096> buffer{};
  const ssize_t n = ::read(fd, buffer.data(), buffer.size());
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  out.append(buffer.data(), static_cast<size_t>(n));
  return true;
}

std::chrono::milliseconds Remaining(Clock& clock, MonoTime deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.Monotonic());
  return std::max(left, std::chrono::milliseconds(0));
}

// Collects both streams until they are closed, the deadline passes or one grows too large.
Status Collect(const std::string& command, Clock& clock, MonoTime deadline, size_t max_output,
               Pipe& out, Pipe& err, ProcessOutput& output) {
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    const auto left = Remaining(clock, deadline);
    if (left.count() == 0) {
      return ProcessError(command, ErrorCode::kTimeout, "did not finish in time");
    }
    std::array<pollfd, 2> fds = {pollfd{out_open ? out.read_end.get() : -1, POLLIN, 0},
                                 pollfd{err_open ? err.read_end.get() : -1, POLLIN, 0}};
    const auto slice = std::min(left, std::chrono::milliseconds(100));
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(slice.count()));
    if (ready < 0 && errno != EINTR) {
      return ProcessError(command, ErrorCode::kCredentials,
                          std::string("poll failed: ") + std::strerror(errno));
    }
    if (ready <= 0) continue;
    if (out_open && fds[0].revents != 0) out_open = Drain(fds[0].fd, output.stdout_text);
    if (err_open && fds[1].revents != 0) err_open = Drain(fds[1].fd, output.stderr_text);
    if (output.stdout_text.size() > max_output || output.stderr_text.size() > max_output) {
      return ProcessError(command, ErrorCode::kCredentials,
                          "printed more than " + std::to_string(max_output) + " bytes");
    }
  }
  return OkStatus();
}

// The first non-blank line of `text`, trimmed and shortened.
std::string FirstLine(std::string_view text) {
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = TrimAsciiSpace(text.substr(0, end));
    if (!line.empty()) {
      constexpr size_t kMaxLine = 300;
      return std::string(line.substr(0, kMaxLine));
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return "";
}

std::string DescribeFailure(const ProcessOutput& output) {
  std::string what = output.term_signal != 0
                         ? "was killed by signal " + std::to_string(output.term_signal)
                         : "exited with status " + std::to_string(output.exit_code);
  const std::string line = FirstLine(output.stderr_text);
  if (!line.empty()) what += ": " + line;
  return what;
}

}  // namespace

Result<ProcessOutput> RunCredentialProcess(const std::string& command, Clock& clock,
                                           std::chrono::milliseconds timeout, size_t max_output) {
  const MonoTime deadline = clock.Monotonic() + timeout;
  auto out = MakePipe(command);
  if (!out.ok()) return std::move(out).error();
  auto err = MakePipe(command);
  if (!err.ok()) return std::move(err).error();
  auto pid = Spawn(command, *out, *err);
  if (!pid.ok()) return std::move(pid).error();
  Child child(*pid);
  out->write_end.Reset();
  err->write_end.Reset();
  ProcessOutput output;
  S3M_RETURN_IF_ERROR(Collect(command, clock, deadline, max_output, *out, *err, output));
  while (true) {
    if (auto status = child.TryWait()) {
      if (WIFSIGNALED(*status)) {
        output.term_signal = WTERMSIG(*status);
      } else {
        output.exit_code = WEXITSTATUS(*status);
      }
      return output;
    }
    const auto left = Remaining(clock, deadline);
    if (left.count() == 0) {
      return ProcessError(command, ErrorCode::kTimeout, "did not finish in time");
    }
    ::poll(nullptr, 0, static_cast<int>(std::min(left, std::chrono::milliseconds(10)).count()));
  }
}

Result<Credentials> ParseProcessCredentials(std::string_view json, std::string_view command) {
  const std::string source = Quoted(command);
  auto object = ParseJsonObject(json, source);
  if (!object.ok()) return std::move(object).error();
  auto version = object->find("Version");
  if (version == object->end()) {
    return MakeError(ErrorCode::kCredentials, source + ": output has no Version (must be 1)");
  }
  if (!version->is_number_integer() || version->get<long long>() != 1) {
    return MakeError(ErrorCode::kCredentials,
                     source + ": unsupported Version " + version->dump() + " (must be 1)");
  }
  static constexpr CredentialJsonFields kFields{.access_key_id = "AccessKeyId",
                                                .secret_access_key = "SecretAccessKey",
                                                .session_token = "SessionToken",
                                                .expiration = "Expiration"};
  return CredentialsFromJson(*object, kFields, source);
}

Result<Credentials> ProcessCredentialsProvider::GetCredentials() {
  std::lock_guard lock(mu_);
  return RunAndParse();
}

Result<Credentials> ProcessCredentialsProvider::RunAndParse() {
  auto output = RunCredentialProcess(command_, clock_, timeout_);
  if (!output.ok()) {
    Error error = std::move(output).error();
    if (error.code == ErrorCode::kTimeout) {
      error.message += " (killed after " + std::to_string(timeout_.count()) + " ms)";
    }
    error.code = ErrorCode::kCredentials;
    return error;
  }
  if (output->exit_code != 0) {
    return ProcessError(command_, ErrorCode::kCredentials, DescribeFailure(*output));
  }
  auto credentials = ParseProcessCredentials(output->stdout_text, command_);
  if (!credentials.ok()) return std::move(credentials).error();
  if (credentials->expiration && *credentials->expiration <= clock_.Now()) {
    return ProcessError(
        command_, ErrorCode::kCredentials,
        "returned credentials that expired at " + FormatIso8601(*credentials->expiration));
  }
  return credentials;
}

}  // namespace s3mount
