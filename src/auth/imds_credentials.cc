// ImdsCredentialsProvider: role credentials from the EC2 instance metadata service (see
// imds_credentials.h).
#include "s3mount/auth/imds_credentials.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "s3mount/auth/credentials_json.h"
#include "s3mount/aws/uri_encoding.h"
#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

constexpr char kTokenPath[] = "/latest/api/token";
constexpr char kRolesPath[] = "/latest/meta-data/iam/security-credentials/";
constexpr char kTtlHeader[] = "x-aws-ec2-metadata-token-ttl-seconds";
constexpr char kTokenHeader[] = "x-aws-ec2-metadata-token";

std::string GetEnv(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
  return value == nullptr ? std::string() : std::string(value);
}

std::string TrimSlashes(std::string endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

}  // namespace

ImdsOptions ImdsOptions::FromEnvironment() {
  ImdsOptions options;
  if (std::string endpoint = GetEnv("AWS_EC2_METADATA_SERVICE_ENDPOINT"); !endpoint.empty()) {
    options.endpoint = std::move(endpoint);
  }
  options.disabled = EqualsIgnoreCase(TrimAsciiSpace(GetEnv("AWS_EC2_METADATA_DISABLED")), "true");
  // As botocore: IMDSv1 is allowed when a token cannot be had, unless this says otherwise.
  options.allow_v1_fallback =
      !EqualsIgnoreCase(TrimAsciiSpace(GetEnv("AWS_EC2_METADATA_V1_DISABLED")), "true");
  return options;
}

HttpClientOptions ImdsHttpClientOptions(const ImdsOptions& options) {
  HttpClientOptions client;
  client.connect_timeout = options.connect_timeout;
  client.request_timeout = options.request_timeout;
  return client;
}

ImdsCredentialsProvider::ImdsCredentialsProvider(HttpFetch fetch, ImdsOptions options, Clock& clock)
    : fetch_(std::move(fetch)),
      options_(std::move(options)),
      endpoint_(TrimSlashes(options_.endpoint)),
      clock_(clock) {}

void ImdsCredentialsProvider::DropToken() {
  std::lock_guard lock(mu_);
  token_.clear();
}

Result<std::string> ImdsCredentialsProvider::Token() {
  {
    std::lock_guard lock(mu_);
    if (!token_.empty() && clock_.Monotonic() < token_refresh_at_) return token_;
  }
  const std::string where = "EC2 instance metadata " + endpoint_ + ": ";
  HttpRequest request{.method = "PUT", .url = endpoint_ + kTokenPath, .headers = {}, .body = {}};
  request.headers.emplace_back(kTtlHeader, std::to_string(options_.token_ttl.count()));
  auto response = fetch_(request);
  if (!response.ok()) {
    return MakeError(ErrorCode::kCredentials,
                     where + "the IMDSv2 token request failed: " + response.error().message);
  }
  const long status = response->status;
  if ((status == 403 || status == 404 || status == 405) && options_.allow_v1_fallback) {
    return std::string();  // IMDSv1
  }
  if (status != 200) {
    Error error =
        MakeError(ErrorCode::kCredentials,
                  where + "the IMDSv2 token request answered HTTP " + std::to_string(status) +
                      (options_.allow_v1_fallback ? ""
                                                  : " (falling back to IMDSv1 is not "
                                                    "allowed)"));
    error.http_status = static_cast<int>(status);
    return error;
  }
  std::string token(TrimAsciiSpace(response->body));
  if (token.empty()) {
    return MakeError(ErrorCode::kCredentials, where + "the IMDSv2 token reply is empty");
  }
  const auto ttl = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.token_ttl);
  const auto margin = std::min<std::chrono::nanoseconds>(std::chrono::minutes(1), ttl / 2);
  std::lock_guard lock(mu_);
  token_ = token;
  token_refresh_at_ = clock_.Monotonic() + (ttl - margin);
  return token;
}

Result<std::string> ImdsCredentialsProvider::Get(const std::string& path, const std::string& token,
                                                 std::string_view step) {
  const std::string where = "EC2 instance metadata " + endpoint_ + ": " + std::string(step);
  HttpRequest request{.method = "GET", .url = endpoint_ + path, .headers = {}, .body = {}};
  if (!token.empty()) request.headers.emplace_back(kTokenHeader, token);
  auto response = fetch_(request);
  if (!response.ok()) {
    return MakeError(ErrorCode::kCredentials, where + " failed: " + response.error().message);
  }
  if (response->status != 200) {
    std::string what = where + " answered HTTP " + std::to_string(response->status);
    if (response->status == 404 && path == kRolesPath) {
      what += ": no IAM role is attached to this instance";
    }
    Error error = MakeError(ErrorCode::kCredentials, std::move(what));
    error.http_status = static_cast<int>(response->status);
    return error;
  }
  return std::move(response->body);
}

Result<Credentials> ImdsCredentialsProvider::FetchOnce(const std::string& token) {
  auto roles = Get(kRolesPath, token, "listing the instance's IAM role");
  if (!roles.ok()) return std::move(roles).error();
  const std::string_view listing = *roles;
  const std::string role(TrimAsciiSpace(listing.substr(0, listing.find('\n'))));
  if (role.empty()) {
    return MakeError(ErrorCode::kCredentials, "EC2 instance metadata " + endpoint_ +
                                                  ": no IAM role is attached to this instance");
  }
  const std::string step = "getting credentials of role '" + role + "'";
  auto body = Get(kRolesPath + UriEncode(role, true), token, step);
  if (!body.ok()) return std::move(body).error();
  const std::string source = "EC2 instance metadata " + endpoint_ + ": role '" + role + "'";
  auto object = ParseJsonObject(*body, source);
  if (!object.ok()) return std::move(object).error();
  const std::string* code = JsonStringMember(*object, "Code");
  if (code != nullptr && *code != "Success") {
    return MakeError(ErrorCode::kCredentials, source + ": Code is '" + *code + "'");
  }
  static constexpr CredentialJsonFields kFields{.access_key_id = "AccessKeyId",
                                                .secret_access_key = "SecretAccessKey",
                                                .session_token = "Token",
                                                .expiration = "Expiration"};
  return CredentialsFromJson(*object, kFields, source);
}

Result<Credentials> ImdsCredentialsProvider::GetCredentials() {
  if (options_.disabled) {
    return MakeError(ErrorCode::kCredentials,
                     "EC2 instance metadata is disabled (AWS_EC2_METADATA_DISABLED=true)");
  }
  auto token = Token();
  if (!token.ok()) return std::move(token).error();
  auto credentials = FetchOnce(*token);
  if (!credentials.ok() && credentials.error().http_status == 401 && !token->empty()) {
    // The token was revoked or the service restarted: get a new one and try once more.
    DropToken();
    token = Token();
    if (!token.ok()) return std::move(token).error();
    credentials = FetchOnce(*token);
  }
  return credentials;
}

}  // namespace s3mount
