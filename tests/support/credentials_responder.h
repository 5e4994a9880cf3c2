// CredentialsResponder: runs tests/tools/credentials_responder.py (an ECS-style container
// credentials endpoint, an EC2 instance metadata service, or an IAM Identity Center portal,
// all serving temporary credentials issued by a moto_server's STS) on a free 127.0.0.1 port
// for one test, and stops it on destruction. The requests it saw are read back from its log.
//
// Thread-safety: one test thread owns each instance; the const accessors may be called from
// any thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "s3mount/common/result.h"
#include "tests/support/subprocess.h"

namespace s3mount::testing {

struct CredentialsResponderOptions {
  std::string mode;          // "container", "imds" or "sso"
  std::string sts_endpoint;  // where the responder asks STS for credentials (moto)
  // Keys the responder signs its STS AssumeRole with (never on its command line).
  std::string access_key_id;
  std::string secret_access_key;
  std::string role_arn;        // "" = the script's default
  int expires_in_seconds = 0;  // > 0: report an Expiration this far ahead instead of STS's
  std::string token;           // container: required Authorization; sso: the bearer token
  bool require_imds_v2 = false;
};

// One request as the responder logged it.
struct ResponderRequest {
  std::string method;
  std::string path;
  std::string authorization;     // the Authorization header, "" if absent
  std::string imds_token;        // x-aws-ec2-metadata-token, "" if absent
  std::string imds_token_ttl;    // x-aws-ec2-metadata-token-ttl-seconds, "" if absent
  std::string sso_bearer_token;  // x-amz-sso_bearer_token, "" if absent
};

class CredentialsResponder {
 public:
  // Starts the script and waits (up to 20 s) until it has written its port.
  static Result<std::unique_ptr<CredentialsResponder>> Start(
      const CredentialsResponderOptions& options);
  ~CredentialsResponder() = default;
  CredentialsResponder(const CredentialsResponder&) = delete;
  CredentialsResponder& operator=(const CredentialsResponder&) = delete;

  // "http://127.0.0.1:PORT".
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // Every request logged so far, in arrival order.
  std::vector<ResponderRequest> Requests() const;
  // How many GETs were answered with credentials-bearing paths ("container": every GET;
  // "imds": GETs of .../security-credentials/<role>; "sso": GETs of /federation/credentials).
  int CredentialRequests() const;
  // The script's own output (for failure messages).
  std::string LogTail() const { return process_->LogTail(); }

  static std::string ScriptPath();

 private:
  CredentialsResponder(std::unique_ptr<TempDir> dir, std::unique_ptr<Subprocess> process,
                       std::string mode, int port)
      : dir_(std::move(dir)), process_(std::move(process)), mode_(std::move(mode)), port_(port) {}

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Subprocess> process_;  // declared after dir_: stopped before it is removed
  std::string mode_;
  int port_;
};

}  // namespace s3mount::testing
