// MotoServer (see moto_server.h): spawns moto_server, polls it until it answers, provisions
// an IAM user when SigV4 is enforced, and drives set-up through moto_admin.py.
#include "tests/support/moto_server.h"

#include <curl/curl.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <utility>

#include "tests/support/free_port.h"
#include "tests/support/test_paths.h"

namespace s3mount::testing {
namespace {

constexpr int kPortAttempts = 3;
constexpr std::chrono::milliseconds kAdminTimeout{60000};
constexpr std::chrono::milliseconds kReadyPollInterval{50};
// Actions moto lets through unsigned before it checks signatures: exactly the three IAM
// calls of `moto_admin.py create-iam-user` (create-user, put-user-policy, create-access-key).
constexpr std::string_view kNoAuthActionCount = "3";

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

size_t AppendToString(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

bool LogSaysAddressInUse(const std::string& log) {
  return log.find("Address already in use") != std::string::npos;
}

}  // namespace

Result<long> SimpleHttpRequest(const std::string& method, const std::string& url,
                               const std::string& request_body, const std::string& content_type,
                               std::string* body, std::chrono::milliseconds timeout) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return MakeError(ErrorCode::kUnknown, "curl_easy_init failed");
  std::string sink;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  if (!content_type.empty()) {
    headers.reset(curl_slist_append(nullptr, ("Content-Type: " + content_type).c_str()));
  }
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!request_body.empty() || method == "POST" || method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request_body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request_body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &AppendToString);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    return MakeError(ErrorCode::kNetwork,
                     method + " " + url + " failed: " + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (body != nullptr) *body = std::move(sink);
  return status;
}

MotoServer::MotoServer(MotoOptions options, std::unique_ptr<TempDir> dir,
                       std::unique_ptr<Subprocess> process, uint16_t port)
    : options_(std::move(options)),
      dir_(std::move(dir)),
      process_(std::move(process)),
      port_(port),
      endpoint_("http://127.0.0.1:" + std::to_string(port)) {}

MotoServer::~MotoServer() {
  process_->Stop();  // before dir_ goes: the log lives there
}

std::string MotoServer::MotoPythonPath() {
  std::string path = SourceDir() + "/tests/tools/moto_crc32c";
  if (const char* existing = std::getenv("PYTHONPATH"); existing != nullptr && *existing != 0) {
    path += ":" + std::string(existing);
  }
  return path;
}

std::string MotoServer::AdminScriptPath() { return SourceDir() + "/tests/tools/moto_admin.py"; }

Result<std::unique_ptr<MotoServer>> MotoServer::Start(const MotoOptions& options) {
  auto dir = TempDir::Create("s3mount-moto");
  if (!dir.ok()) return std::move(dir).error();
  Error last_error = MakeError(ErrorCode::kUnknown, "moto_server did not start");
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    auto port = PickFreePort();
    if (!port.ok()) return std::move(port).error();
    SubprocessOptions spawn;
    spawn.argv = {options.python, "-m", "moto.server",        "-H",
                  "127.0.0.1",    "-p", std::to_string(*port)};
    // moto needs a `crc32c` module for true CRC32C checksums (tests/tools/moto_crc32c).
    spawn.env = {{"PYTHONUNBUFFERED", "1"}, {"PYTHONPATH", MotoPythonPath()}};
    if (options.enforce_sigv4) {
      spawn.env.emplace_back("INITIAL_NO_AUTH_ACTION_COUNT", std::string(kNoAuthActionCount));
    }
    spawn.log_path = (*dir)->File("moto-" + std::to_string(*port) + ".log");
    auto process = Subprocess::Start(spawn);
    if (!process.ok()) return std::move(process).error();
    std::unique_ptr<MotoServer> server(
        new MotoServer(options, nullptr, std::move(*process), *port));
    Status ready = server->WaitUntilReady();
    if (!ready.ok()) {
      last_error = ready.error();
      bool port_taken = LogSaysAddressInUse(server->LogTail());
      if (port_taken) continue;  // someone grabbed the port between pick and bind
      return last_error;
    }
    if (options.enforce_sigv4) S3M_RETURN_IF_ERROR(server->ProvisionIamUser());
    server->dir_ = std::move(*dir);
    return server;
  }
  return last_error;
}

Status MotoServer::WaitUntilReady() const {
  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  std::string last_problem = "no answer yet";
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->Running()) {
      return MakeError(ErrorCode::kNetwork, "`" + process_->description() +
                                                "` exited during startup; log tail:\n" + LogTail());
    }
    auto status = SimpleHttpRequest("GET", endpoint_ + "/moto-api/config", "", "", nullptr,
                                    std::chrono::seconds(2));
    if (status.ok() && *status > 0) return OkStatus();  // any HTTP answer (moto says 201)
    last_problem = status.ok() ? "HTTP " + std::to_string(*status) : status.error().message;
    std::this_thread::sleep_for(kReadyPollInterval);
  }
  return MakeError(ErrorCode::kTimeout,
                   "`" + process_->description() + "` did not answer on " + endpoint_ + " within " +
                       std::to_string(options_.start_timeout.count()) +
                       " ms (last: " + last_problem + "); log tail:\n" + LogTail());
}

Status MotoServer::ProvisionIamUser() {
  // The unsigned IAM calls must not carry the previous user's keys (they would be checked
  // against a user that no longer exists once the countdown runs out).
  auto run = RunAdmin({"create-iam-user"}, "",
                      {{"AWS_ACCESS_KEY_ID", std::string(kDefaultAccessKeyId)},
                       {"AWS_SECRET_ACCESS_KEY", std::string(kDefaultSecretAccessKey)}});
  if (!run.ok()) return std::move(run).error();
  if (!run->ok()) {
    return MakeError(ErrorCode::kCredentials,
                     "moto_admin.py create-iam-user failed: " + run->Describe());
  }
  try {
    auto json = nlohmann::json::parse(run->stdout_text);
    access_key_id_ = json.at("AccessKeyId").get<std::string>();
    secret_access_key_ = json.at("SecretAccessKey").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidResponse,
                     std::string("create-iam-user printed unparseable JSON: ") + e.what());
  }
  return OkStatus();
}

std::string MotoServer::LogTail(std::size_t max_bytes) const {
  return process_->LogTail(max_bytes);
}

Result<CommandResult> MotoServer::RunAdmin(const std::vector<std::string>& args,
                                           const std::string& stdin_data,
                                           const EnvOverrides& extra_env) const {
  CommandOptions command;
  command.argv = {options_.python, AdminScriptPath(), "--endpoint", endpoint_};
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.env = {{"AWS_ACCESS_KEY_ID", access_key_id_},
                 {"AWS_SECRET_ACCESS_KEY", secret_access_key_},
                 {"AWS_SESSION_TOKEN", ""},
                 {"AWS_EC2_METADATA_DISABLED", "true"},
                 {"AWS_CONFIG_FILE", "/dev/null"},
                 {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                 {"NO_PROXY", "127.0.0.1,localhost"},
                 {"no_proxy", "127.0.0.1,localhost"}};
  command.env.insert(command.env.end(), extra_env.begin(), extra_env.end());
  command.stdin_data = stdin_data;
  command.timeout = kAdminTimeout;
  return RunCommand(command);
}

Status MotoServer::CreateBucket(std::string_view name) const {
  if (!options_.enforce_sigv4) {
    std::string body;
    auto status = SimpleHttpRequest("PUT", endpoint_ + "/" + std::string(name), "", "", &body);
    if (!status.ok()) return std::move(status).error();
    if (*status == 200) return OkStatus();
    Error error =
        MakeError(ErrorCode::kBadRequest, "CreateBucket " + std::string(name) + " failed: " + body);
    error.http_status = static_cast<int>(*status);
    return error;
  }
  auto run = RunAdmin({"create-bucket", std::string(name)});
  if (!run.ok()) return std::move(run).error();
  if (run->ok()) return OkStatus();
  return MakeError(ErrorCode::kBadRequest,
                   "CreateBucket " + std::string(name) + " failed: " + run->Describe());
}

Status MotoServer::PutObject(std::string_view bucket, std::string_view key,
                             std::string_view data) const {
  auto run = RunAdmin({"put-object", std::string(bucket), std::string(key)}, std::string(data));
  if (!run.ok()) return std::move(run).error();
  if (run->ok()) return OkStatus();
  return MakeError(ErrorCode::kBadRequest, "put-object " + std::string(bucket) + "/" +
                                               std::string(key) + " failed: " + run->Describe());
}

Result<std::string> MotoServer::GetObject(std::string_view bucket, std::string_view key) const {
  auto run = RunAdmin({"get-object", std::string(bucket), std::string(key)});
  if (!run.ok()) return std::move(run).error();
  if (!run->ok()) {
    bool missing = run->stderr_text.find("NoSuchKey") != std::string::npos ||
                   run->stderr_text.find("NoSuchBucket") != std::string::npos;
    return MakeError(missing ? ErrorCode::kNotFound : ErrorCode::kBadRequest,
                     "get-object " + std::string(bucket) + "/" + std::string(key) +
                         " failed: " + run->Describe());
  }
  return std::move(run->stdout_text);
}

Result<std::vector<std::string>> MotoServer::MultipartUploads(std::string_view bucket) const {
  auto run = RunAdmin({"list-uploads", std::string(bucket)});
  if (!run.ok()) return std::move(run).error();
  if (!run->ok()) {
    return MakeError(ErrorCode::kBadRequest,
                     "list-uploads " + std::string(bucket) + " failed: " + run->Describe());
  }
  std::vector<std::string> keys;
  std::istringstream lines(run->stdout_text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) keys.push_back(line);
  }
  return keys;
}

Status MotoServer::Reset() {
  std::string body;
  auto status = SimpleHttpRequest("POST", endpoint_ + "/moto-api/reset", "", "", &body);
  if (!status.ok()) return std::move(status).error();
  if (*status != 200) {
    return MakeError(ErrorCode::kUnknown,
                     "POST /moto-api/reset answered HTTP " + std::to_string(*status) + ": " + body);
  }
  if (!options_.enforce_sigv4) return OkStatus();
  status = SimpleHttpRequest("POST", endpoint_ + "/moto-api/reset-auth",
                             std::string(kNoAuthActionCount), "text/plain", &body);
  if (!status.ok()) return std::move(status).error();
  if (*status != 200) {
    return MakeError(ErrorCode::kUnknown, "POST /moto-api/reset-auth answered HTTP " +
                                              std::to_string(*status) + ": " + body);
  }
  return ProvisionIamUser();
}

}  // namespace s3mount::testing
