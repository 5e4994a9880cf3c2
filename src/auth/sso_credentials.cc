// SsoCredentialsProvider: role credentials from the IAM Identity Center portal with the token
// `aws sso login` cached (see sso_credentials.h).
#include "s3mount/auth/sso_credentials.h"

#include <openssl/evp.h>
#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <vector>

#include "s3mount/auth/credentials_json.h"
#include "s3mount/aws/crypto.h"
#include "s3mount/aws/uri_encoding.h"
#include "s3mount/common/time_format.h"

namespace s3mount {
namespace {

constexpr size_t kMaxCacheFileBytes = size_t{1} << 20;

std::string HomeDirectory() {
  const char* home = std::getenv("HOME");  // NOLINT(concurrency-mt-unsafe): read-only use
  if (home != nullptr && *home != '\0') return home;
  std::vector<char> buffer(16384);
  struct passwd entry {};
  struct passwd* found = nullptr;
  if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_dir != nullptr) {
    return found->pw_dir;
  }
  return {};
}

Error SsoError(std::string message) {
  return MakeError(ErrorCode::kCredentials, "SSO: " + std::move(message));
}

}  // namespace

std::string Sha1Hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // One-shot EVP: no context object to own.
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha1(), nullptr) != 1) {
    return {};  // only without a SHA-1 provider; the cache file is then simply not found
  }
  return HexEncode(std::span<const unsigned char>(digest.data(), length));
}

Result<std::string> SsoTokenCachePath(const SsoSettings& settings) {
  std::string dir = settings.cache_dir;
  if (dir.empty()) {
    const std::string home = HomeDirectory();
    if (home.empty()) {
      return SsoError("cannot find the home directory for ~/.aws/sso/cache (HOME is not set)");
    }
    dir = home + "/.aws/sso/cache";
  }
  const std::string& key =
      settings.session_name.empty() ? settings.start_url : settings.session_name;
  return dir + "/" + Sha1Hex(key) + ".json";
}

std::string SsoCredentialsProvider::Subject() const {
  if (!settings_.session_name.empty()) return "sso-session '" + settings_.session_name + "'";
  return "profile '" + settings_.profile_name + "' (start URL " + settings_.start_url + ")";
}

std::string SsoCredentialsProvider::LoginAdvice() const {
  if (!settings_.session_name.empty()) {
    return "run `aws sso login --sso-session " + settings_.session_name + "`";
  }
  if (!settings_.profile_name.empty()) {
    return "run `aws sso login --profile " + settings_.profile_name + "`";
  }
  return "run `aws sso login`";
}

Result<std::string> SsoCredentialsProvider::LoadAccessToken() const {
  auto path = SsoTokenCachePath(settings_);
  if (!path.ok()) return std::move(path).error();
  std::ifstream in(*path, std::ios::binary);
  if (!in) {
    const int saved = errno;
    return SsoError("no cached token for " + Subject() + " (" + *path + ": " +
                    std::strerror(saved) + "): " + LoginAdvice());
  }
  std::string contents;
  std::array<char, 8192> buffer{};
  while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
    contents.append(buffer.data(), static_cast<size_t>(in.gcount()));
    if (contents.size() > kMaxCacheFileBytes) return SsoError(*path + " is larger than 1 MiB");
  }
  const std::string source = "SSO token cache " + *path;
  auto object = ParseJsonObject(contents, source);
  if (!object.ok()) return std::move(object).error();
  const std::string* token = JsonStringMember(*object, "accessToken");
  const std::string* expires = JsonStringMember(*object, "expiresAt");
  if (token == nullptr || token->empty() || expires == nullptr) {
    return SsoError("the cached token for " + Subject() + " in " + *path +
                    " has no accessToken or expiresAt: " + LoginAdvice());
  }
  auto expires_at = ParseIso8601(*expires);
  if (!expires_at.ok()) {
    return SsoError("the cached token for " + Subject() + " in " + *path +
                    " has an unreadable expiresAt: " + LoginAdvice());
  }
  if (*expires_at <= clock_.Now()) {
    return SsoError("the token for " + Subject() + " expired at " + FormatIso8601(*expires_at) +
                    ": " + LoginAdvice());
  }
  return *token;
}

Result<Credentials> SsoCredentialsProvider::GetCredentials() {
  for (const auto& [value, name] : {std::pair{&settings_.sso_region, "sso_region"},
                                    std::pair{&settings_.account_id, "sso_account_id"},
                                    std::pair{&settings_.role_name, "sso_role_name"}}) {
    if (value->empty()) return SsoError(Subject() + " has no " + name);
  }
  auto token = LoadAccessToken();
  if (!token.ok()) return std::move(token).error();
  const std::string endpoint = settings_.portal_endpoint.empty()
                                   ? "https://portal.sso." + settings_.sso_region + ".amazonaws.com"
                                   : settings_.portal_endpoint;
  HttpRequest request{.method = "GET",
                      .url = endpoint + "/federation/credentials?" +
                             EncodeQueryString({{"account_id", settings_.account_id},
                                                {"role_name", settings_.role_name}}),
                      .headers = {},
                      .body = {}};
  request.headers.emplace_back("x-amz-sso_bearer_token", *token);
  const std::string what = "GetRoleCredentials for account " + settings_.account_id + ", role '" +
                           settings_.role_name + "' at " + endpoint;
  auto response = fetch_(request);
  if (!response.ok()) return SsoError(what + " failed: " + response.error().message);
  if (response->status == 401 || response->status == 403) {
    return SsoError("the portal rejected the token for " + Subject() + " (HTTP " +
                    std::to_string(response->status) + " from " + what + "): " + LoginAdvice());
  }
  if (response->status != 200) {
    return SsoError(what + " answered HTTP " + std::to_string(response->status));
  }
  const std::string source = "SSO: " + what;
  auto object = ParseJsonObject(response->body, source);
  if (!object.ok()) return std::move(object).error();
  auto role_credentials = object->find("roleCredentials");
  if (role_credentials == object->end() || !role_credentials->is_object()) {
    return MakeError(ErrorCode::kCredentials, source + ": reply has no roleCredentials");
  }
  static constexpr CredentialJsonFields kFields{.access_key_id = "accessKeyId",
                                                .secret_access_key = "secretAccessKey",
                                                .session_token = "sessionToken",
                                                .expiration = "expiration"};
  return CredentialsFromJson(*role_credentials, kFields, source);
}

}  // namespace s3mount
