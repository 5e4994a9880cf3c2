// RedisServer (see redis_server.h): writes a config file, spawns redis-server on it, polls it
// with redis-cli PING until it answers.
#include "tests/support/redis_server.h"

#include <fstream>
#include <thread>
#include <utility>

#include "tests/support/free_port.h"

namespace s3mount::testing {
namespace {

constexpr int kPortAttempts = 3;
constexpr std::chrono::milliseconds kReadyPollInterval{50};
constexpr std::chrono::milliseconds kCliTimeout{15000};

Status WriteConfig(const std::string& path, uint16_t port, const std::string& password,
                   const std::string& dir) {
  std::ofstream out(path, std::ios::trunc);
  out << "port " << port << "\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndaemonize no\n"
      << "dir " << dir << "\nlogfile \"\"\n";
  if (!password.empty()) out << "requirepass \"" << password << "\"\n";
  out.close();
  if (!out) return MakeError(ErrorCode::kUnknown, "cannot write " + path);
  return OkStatus();
}

}  // namespace

Result<std::unique_ptr<RedisServer>> RedisServer::Start(const RedisServerOptions& options) {
  auto dir = TempDir::Create("s3mount-redis");
  if (!dir.ok()) return std::move(dir).error();
  Error last_error = MakeError(ErrorCode::kUnknown, "redis-server did not start");
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    auto port = PickFreePort();
    if (!port.ok()) return std::move(port).error();
    std::unique_ptr<RedisServer> server(new RedisServer(options, nullptr, *port));
    server->dir_ = std::move(*dir);
    Status launched = server->Launch();
    if (launched.ok()) return server;
    last_error = launched.error();
    if (server->LogTail().find("Address already in use") == std::string::npos) return last_error;
    server->Stop();
    dir = TempDir::Create("s3mount-redis");  // the old one goes with `server`
    if (!dir.ok()) return std::move(dir).error();
  }
  return last_error;
}

RedisServer::~RedisServer() { Stop(); }  // before dir_ goes: the log lives there

std::string RedisServer::Url() const {
  const std::string auth = options_.password.empty() ? "" : ":" + options_.password + "@";
  return "redis://" + auth + "127.0.0.1:" + std::to_string(port_);
}

void RedisServer::Stop() {
  if (process_) process_->Stop();
}

bool RedisServer::Running() const { return process_ && process_->Running(); }

Status RedisServer::Restart() {
  Stop();
  return Launch();
}

std::string RedisServer::LogTail(std::size_t max_bytes) const {
  return process_ ? process_->LogTail(max_bytes) : "";
}

Status RedisServer::Launch() {
  ++launches_;
  const std::string config = dir_->File("redis.conf");
  S3M_RETURN_IF_ERROR(WriteConfig(config, port_, options_.password, dir_->path()));
  SubprocessOptions spawn;
  spawn.argv = {"redis-server", config};
  spawn.log_path = dir_->File("redis-" + std::to_string(launches_) + ".log");
  auto process = Subprocess::Start(spawn);
  if (!process.ok()) return std::move(process).error();
  process_ = std::move(*process);
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  std::string last_problem = "no answer yet";
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->Running()) {
      return MakeError(ErrorCode::kNetwork, "`" + process_->description() +
                                                "` exited during startup; log tail:\n" + LogTail());
    }
    auto pong = Cli({"PING"});
    if (pong.ok() && *pong == "PONG") return OkStatus();
    last_problem = pong.ok() ? *pong : pong.error().message;
    std::this_thread::sleep_for(kReadyPollInterval);
  }
  return MakeError(ErrorCode::kTimeout, "redis-server on port " + std::to_string(port_) +
                                            " did not answer PING (last: " + last_problem +
                                            "); log tail:\n" + LogTail());
}

Result<std::string> RedisServer::Cli(const std::vector<std::string>& args) const {
  CommandOptions command;
  command.argv = {"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(port_), "-e"};
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  if (!options_.password.empty()) command.env = {{"REDISCLI_AUTH", options_.password}};
  command.timeout = kCliTimeout;
  auto run = RunCommand(command);
  if (!run.ok()) return std::move(run).error();
  std::string out = std::move(run->stdout_text);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  if (!run->ok()) {
    return MakeError(ErrorCode::kUnknown, "redis-cli " + (args.empty() ? "" : args[0]) +
                                              " failed: " + run->Describe() + "; " + out);
  }
  return out;
}

}  // namespace s3mount::testing
