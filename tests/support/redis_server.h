// RedisServer: a private `redis-server` (Debian's package) for tests, on 127.0.0.1 and a free
// port, without persistence (`save ""`, `appendonly no`), optionally with a password
// (`requirepass`). It can be stopped and started again on the same port, to test that
// clients reconnect. Set-up and checks go through `redis-cli`, a client independent of
// s3mount's hiredis code.
//
// Thread-safety: Cli and the const accessors may be called from any thread; Stop and Restart
// from the thread that started the server (its child dies with that thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "s3mount/common/result.h"
#include "tests/support/subprocess.h"

namespace s3mount::testing {

struct RedisServerOptions {
  std::string password;  // requirepass; empty: none
  std::chrono::milliseconds start_timeout{10000};
};

class RedisServer {
 public:
  // Starts the server and waits until it answers PING. Errors carry the server's log tail.
  static Result<std::unique_ptr<RedisServer>> Start(const RedisServerOptions& options = {});
  // Stops the server and removes its directory.
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  uint16_t port() const { return port_; }
  // "redis://127.0.0.1:PORT", with ":PASSWORD@" when the server has one.
  std::string Url() const;
  // Stops the server (SIGTERM, then SIGKILL); idempotent. Its data is gone (no persistence).
  void Stop();
  // Starts it again on the same port and waits until it answers.
  Status Restart();
  bool Running() const;

  // Runs `redis-cli -h 127.0.0.1 -p PORT -e args...` (authenticated) and returns its stdout
  // without the final newline; a non-zero exit (an error reply) is an error.
  Result<std::string> Cli(const std::vector<std::string>& args) const;
  std::string LogTail(std::size_t max_bytes = 4096) const;

 private:
  RedisServer(RedisServerOptions options, std::unique_ptr<TempDir> dir, uint16_t port)
      : options_(std::move(options)), dir_(std::move(dir)), port_(port) {}

  Status Launch();  // spawns the process on port_ and waits until it answers

  RedisServerOptions options_;
  std::unique_ptr<TempDir> dir_;
  uint16_t port_;
  std::unique_ptr<Subprocess> process_;
  int launches_ = 0;
};

}  // namespace s3mount::testing
