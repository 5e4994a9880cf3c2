// SsoCredentialsProvider: role credentials through AWS IAM Identity Center (SSO), using the
// access token `aws sso login` cached in `<cache_dir>/<sha1 hex>.json`, where the hash is of
// the sso-session name (profiles with `sso_session`) or of the start URL (legacy profiles with
// `sso_start_url` in the profile). The cache file holds `accessToken` and `expiresAt`
// (ISO-8601). The credentials come from the portal's GetRoleCredentials:
//   GET https://portal.sso.<region>.amazonaws.com/federation/credentials
//       ?account_id=<id>&role_name=<name>        x-amz-sso_bearer_token: <accessToken>
// whose reply is {"roleCredentials":{"accessKeyId","secretAccessKey","sessionToken",
// "expiration":<epoch ms>}}.
//
// Every GetCredentials reads the cache file again (so a fresh `aws sso login` is seen) and
// asks the portal. A missing or expired token, and a token the portal rejects (401/403), end
// in an error (kCredentials) telling the user to run `aws sso login --sso-session NAME` (or
// `--profile NAME` for legacy profiles). Errors never hold the token or a key.
//
// Thread-safety: GetCredentials may be called from any thread (the HttpFetch must allow it).
#pragma once

#include <string>

#include "s3mount/aws/credentials.h"
#include "s3mount/aws/http_fetch.h"
#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"

namespace s3mount {

struct SsoSettings {
  std::string start_url;        // sso_start_url
  std::string sso_region;       // sso_region: where the portal is
  std::string account_id;       // sso_account_id
  std::string role_name;        // sso_role_name
  std::string session_name;     // sso_session; empty for a legacy profile
  std::string profile_name;     // for messages (`aws sso login --profile NAME`)
  std::string cache_dir;        // empty: ~/.aws/sso/cache
  std::string portal_endpoint;  // empty: https://portal.sso.<sso_region>.amazonaws.com
};

// Lower-case hex SHA-1 of `text` (the cache file name's stem).
std::string Sha1Hex(std::string_view text);

// The cache file for `settings`; fails (kCredentials) only when a home directory is needed
// and cannot be found.
Result<std::string> SsoTokenCachePath(const SsoSettings& settings);

class SsoCredentialsProvider final : public CredentialsProvider {
 public:
  // `clock` (to check the token's expiry) must outlive the provider.
  SsoCredentialsProvider(HttpFetch fetch, Clock& clock, SsoSettings settings)
      : fetch_(std::move(fetch)), clock_(clock), settings_(std::move(settings)) {}

  Result<Credentials> GetCredentials() override;

 private:
  Result<std::string> LoadAccessToken() const;
  // "sso-session 'x'" or "profile 'p'", and the matching `aws sso login` advice.
  std::string Subject() const;
  std::string LoginAdvice() const;

  const HttpFetch fetch_;
  Clock& clock_;
  const SsoSettings settings_;
};

}  // namespace s3mount
