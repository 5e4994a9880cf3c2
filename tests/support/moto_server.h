// MotoServer: a private moto_server (python3 -m moto.server) on a free 127.0.0.1 port for one
// test suite, optionally with SigV4 checking on and an IAM user whose keys the test uses.
// Set-up and cross-checks go through tests/tools/moto_admin.py (boto3), independent of
// s3mount's own S3 client.
//
// Thread-safety: const accessors may be called from any thread; CreateBucket, PutObject,
// GetObject and RunAdmin may run concurrently; Reset() must not run concurrently with any
// other call (it replaces the keys in auth mode).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/common/result.h"
#include "tests/support/subprocess.h"

namespace s3mount::testing {

struct MotoOptions {
  // Turn moto's signature checking on (INITIAL_NO_AUTH_ACTION_COUNT) and provision an IAM
  // user with an allow-* policy; only its key (access_key_id/secret_access_key) works then.
  bool enforce_sigv4 = false;
  // How long to wait for the server to answer before Start fails.
  std::chrono::milliseconds start_timeout{20000};
  std::string python = "python3";
};

class MotoServer {
 public:
  static constexpr std::string_view kRegion = "us-east-1";
  // The credentials reported when signature checking is off (moto accepts any key).
  static constexpr std::string_view kDefaultAccessKeyId = "test";
  static constexpr std::string_view kDefaultSecretAccessKey = "test";

  // Starts the server and waits until it answers. Errors carry the server's log tail.
  static Result<std::unique_ptr<MotoServer>> Start(const MotoOptions& options = {});
  // Stops the server (SIGTERM, then SIGKILL after a grace period) and removes its temp dir.
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  const std::string& endpoint() const { return endpoint_; }  // "http://127.0.0.1:PORT"
  uint16_t port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  bool enforce_sigv4() const { return options_.enforce_sigv4; }
  std::string_view region() const { return kRegion; }
  // The IAM user's key when enforcing SigV4 (they change on Reset()), else "test"/"test".
  const std::string& access_key_id() const { return access_key_id_; }
  const std::string& secret_access_key() const { return secret_access_key_; }
  // The last bytes of moto's own log, for failure messages.
  std::string LogTail(std::size_t max_bytes = 4096) const;
  // False once the server process has exited (e.g. crashed).
  bool Running() const { return process_->Running(); }

  // Creates a bucket (an unsigned PUT /name, or via boto3 with the IAM key when enforcing).
  Status CreateBucket(std::string_view name) const;
  // Writes / reads an object through boto3 (a second, independent S3 client).
  Status PutObject(std::string_view bucket, std::string_view key, std::string_view data) const;
  Result<std::string> GetObject(std::string_view bucket, std::string_view key) const;
  // The keys of the multipart uploads in progress in `bucket` (through boto3).
  Result<std::vector<std::string>> MultipartUploads(std::string_view bucket) const;
  // Forgets every bucket, object and IAM entity (POST /moto-api/reset). When enforcing, the
  // auth countdown is restarted and a new IAM user is provisioned: the keys change.
  Status Reset();

  // Runs `python3 tests/tools/moto_admin.py --endpoint ENDPOINT args...` with this server's
  // credentials in the environment; `extra_env` is applied last (e.g. a wrong secret).
  Result<CommandResult> RunAdmin(const std::vector<std::string>& args,
                                 const std::string& stdin_data = "",
                                 const EnvOverrides& extra_env = {}) const;

  // Path of tests/tools/moto_admin.py in the source tree.
  static std::string AdminScriptPath();
  // PYTHONPATH for moto_server: tests/tools/moto_crc32c first (moto's CRC32C), then ours.
  static std::string MotoPythonPath();

 private:
  MotoServer(MotoOptions options, std::unique_ptr<TempDir> dir, std::unique_ptr<Subprocess> process,
             uint16_t port);

  Status WaitUntilReady() const;
  Status ProvisionIamUser();

  MotoOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Subprocess> process_;
  uint16_t port_;
  std::string endpoint_;
  std::string access_key_id_{kDefaultAccessKeyId};
  std::string secret_access_key_{kDefaultSecretAccessKey};
};

// One plain HTTP request with libcurl (no signing), for harness plumbing such as
// /moto-api/reset. Returns the HTTP status; the body goes to *body when given.
Result<long> SimpleHttpRequest(const std::string& method, const std::string& url,
                               const std::string& request_body = "",
                               const std::string& content_type = "", std::string* body = nullptr,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace s3mount::testing
