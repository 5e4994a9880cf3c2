// CredentialsResponder: start, wait for, query and stop tests/tools/credentials_responder.py.
#include "tests/support/credentials_responder.h"

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/s3mount_process.h"

namespace s3mount::testing {

std::string CredentialsResponder::ScriptPath() {
  return std::string(S3MOUNT_SOURCE_DIR) + "/tests/tools/credentials_responder.py";
}

Result<std::unique_ptr<CredentialsResponder>> CredentialsResponder::Start(
    const CredentialsResponderOptions& options) {
  auto dir = TempDir::Create("s3mount-responder");
  S3M_RETURN_IF_ERROR(dir);
  const std::string port_file = (*dir)->File("port");
  SubprocessOptions spawn;
  // boto3 must see only the keys given here, not the test environment's profile or token.
  spawn.env = {{"AWS_ACCESS_KEY_ID", options.access_key_id},
               {"AWS_SECRET_ACCESS_KEY", options.secret_access_key},
               {"AWS_CONFIG_FILE", "/dev/null"},
               {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
               {"AWS_EC2_METADATA_DISABLED", "true"}};
  spawn.argv = EnvCommandUnsettingAws(spawn.env);
  for (const std::string& arg :
       {std::string("python3"), ScriptPath(), std::string("--mode"), options.mode,
        std::string("--sts-endpoint"), options.sts_endpoint, std::string("--port-file"), port_file,
        std::string("--log"), (*dir)->File("requests.jsonl")}) {
    spawn.argv.push_back(arg);
  }
  if (!options.role_arn.empty()) {
    spawn.argv.insert(spawn.argv.end(), {"--role-arn", options.role_arn});
  }
  if (options.expires_in_seconds > 0) {
    spawn.argv.insert(spawn.argv.end(),
                      {"--expires-in", std::to_string(options.expires_in_seconds)});
  }
  if (!options.token.empty()) spawn.argv.insert(spawn.argv.end(), {"--token", options.token});
  if (options.require_imds_v2) spawn.argv.emplace_back("--require-v2");
  spawn.log_path = (*dir)->File("responder.log");
  auto process = Subprocess::Start(spawn);
  S3M_RETURN_IF_ERROR(process);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int port = 0;
  while (port == 0) {
    std::ifstream in(port_file);
    if (in && (in >> port) && port > 0) break;
    port = 0;
    if (!(*process)->Running() || std::chrono::steady_clock::now() > deadline) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "credentials_responder.py did not start; its output:\n" + (*process)->LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::unique_ptr<CredentialsResponder>(new CredentialsResponder(
      std::move(dir).value(), std::move(process).value(), options.mode, port));
}

std::vector<ResponderRequest> CredentialsResponder::Requests() const {
  std::vector<ResponderRequest> requests;
  std::ifstream in(dir_->File("requests.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    const auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object()) continue;
    const auto headers = json.value("headers", nlohmann::json::object());
    auto header = [&](const char* name) { return headers.value(name, std::string()); };
    requests.push_back({.method = json.value("method", std::string()),
                        .path = json.value("path", std::string()),
                        .authorization = header("authorization"),
                        .imds_token = header("x-aws-ec2-metadata-token"),
                        .imds_token_ttl = header("x-aws-ec2-metadata-token-ttl-seconds"),
                        .sso_bearer_token = header("x-amz-sso_bearer_token")});
  }
  return requests;
}

int CredentialsResponder::CredentialRequests() const {
  int count = 0;
  for (const ResponderRequest& request : Requests()) {
    if (request.method != "GET") continue;
    if (mode_ == "container" ||
        (mode_ == "imds" &&
         request.path.starts_with("/latest/meta-data/iam/security-credentials/") &&
         !request.path.ends_with("/")) ||
        (mode_ == "sso" && request.path.starts_with("/federation/credentials"))) {
      ++count;
    }
  }
  return count;
}

}  // namespace s3mount::testing
