// ContainerCredentialsProvider: credentials from a container runtime's endpoint (see
// container_credentials.h).
#include "s3mount/auth/container_credentials.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "s3mount/auth/credentials_json.h"
#include "s3mount/aws/url.h"
#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

std::string GetEnv(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
  return value == nullptr ? std::string() : std::string(value);
}

Error ContainerError(std::string_view what) {
  return MakeError(ErrorCode::kCredentials, "container credentials: " + std::string(what));
}

bool IsDecimalOctet(std::string_view part) {
  if (part.empty() || part.size() > 3) return false;
  int value = 0;
  for (char c : part) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value <= 255;
}

bool IsLoopbackIpv4(std::string_view host) {
  int parts = 0;
  std::string_view first;
  while (true) {
    const size_t dot = host.find('.');
    const std::string_view part = host.substr(0, dot);
    if (!IsDecimalOctet(part)) return false;
    if (parts == 0) first = part;
    ++parts;
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  return parts == 4 && first == "127";
}

// The URL without its query or fragment, for messages.
std::string WithoutQuery(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

}  // namespace

ContainerEnvironment ContainerEnvironment::FromProcess() {
  ContainerEnvironment environment;
  environment.relative_uri = GetEnv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  environment.full_uri = GetEnv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  environment.authorization_token = GetEnv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
  environment.authorization_token_file = GetEnv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  return environment;
}

bool IsAllowedContainerHttpHost(std::string_view host) {
  return host == "localhost" || host == "[::1]" || IsLoopbackIpv4(host) ||
         host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]";
}

Result<std::string> ContainerCredentialsUrl(const ContainerEnvironment& environment) {
  if (!environment.relative_uri.empty()) {
    if (environment.relative_uri.front() != '/') {
      return ContainerError("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI does not start with '/'");
    }
    return std::string(kEcsContainerEndpoint) + environment.relative_uri;
  }
  if (environment.full_uri.empty()) {
    return ContainerError(
        "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI "
        "is set");
  }
  auto url = ParseHttpUrl(environment.full_uri);
  if (!url.ok()) {
    return ContainerError("AWS_CONTAINER_CREDENTIALS_FULL_URI " +
                          WithoutQuery(environment.full_uri) + " " + url.error().message);
  }
  if (url->scheme == "https") return environment.full_uri;
  if (IsAllowedContainerHttpHost(url->host)) return environment.full_uri;
  return ContainerError("AWS_CONTAINER_CREDENTIALS_FULL_URI " + WithoutQuery(environment.full_uri) +
                        " uses plain http to host '" + url->host +
                        "', which is not a loopback address: use https, or a host in "
                        "127.0.0.0/8, [::1] or localhost");
}

std::unique_ptr<ContainerCredentialsProvider> ContainerCredentialsProvider::FromEnvironment(
    HttpFetch fetch) {
  return std::make_unique<ContainerCredentialsProvider>(std::move(fetch),
                                                        ContainerEnvironment::FromProcess());
}

Result<std::string> ContainerCredentialsProvider::AuthorizationHeader() const {
  if (environment_.authorization_token_file.empty()) return environment_.authorization_token;
  const std::string& path = environment_.authorization_token_file;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return ContainerError("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + path + ": " +
                          std::strerror(errno));
  }
  const std::string contents((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  const std::string_view token = TrimAsciiSpace(contents);
  if (token.find_first_of("\r\n") != std::string_view::npos) {
    return ContainerError("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + path +
                          " holds more than one line");
  }
  return std::string(token);
}

Result<Credentials> ContainerCredentialsProvider::GetCredentials() {
  auto url = ContainerCredentialsUrl(environment_);
  if (!url.ok()) return std::move(url).error();
  auto authorization = AuthorizationHeader();
  if (!authorization.ok()) return std::move(authorization).error();
  if (authorization->find_first_of("\r\n") != std::string::npos) {
    return ContainerError("AWS_CONTAINER_AUTHORIZATION_TOKEN holds a line break");
  }
  HttpRequest request{.method = "GET", .url = *url, .headers = {}, .body = {}};
  request.headers.emplace_back("accept", "application/json");
  if (!authorization->empty()) request.headers.emplace_back("authorization", *authorization);
  const std::string source = "container endpoint " + WithoutQuery(*url);
  auto response = fetch_(request);
  if (!response.ok()) {
    Error error = std::move(response).error();
    error.message = "container credentials: " + source + ": " + error.message;
    error.code = ErrorCode::kCredentials;
    return error;
  }
  if (response->status != 200) {
    return ContainerError(source + " answered HTTP " + std::to_string(response->status));
  }
  auto object = ParseJsonObject(response->body, "container credentials: " + source);
  if (!object.ok()) return std::move(object).error();
  static constexpr CredentialJsonFields kFields{.access_key_id = "AccessKeyId",
                                                .secret_access_key = "SecretAccessKey",
                                                .session_token = "Token",
                                                .expiration = "Expiration"};
  return CredentialsFromJson(*object, kFields, "container credentials: " + source);
}

}  // namespace s3mount
