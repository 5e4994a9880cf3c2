// Credential providers backed by STS: AssumeRoleProvider (a role assumed with credentials
// from another provider: `role_arn` + `source_profile`/`credential_source` in a profile, or
// the `role_arn=` mount option) and WebIdentityProvider (AssumeRoleWithWebIdentity with a
// token file, as on Kubernetes: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, or
// `web_identity_token_file` in a profile).
//
// Each GetCredentials() call asks STS afresh and returns credentials with their expiration;
// caching and refreshing before expiry is RefreshingCredentialsProvider's job. Errors are
// kCredentials (or the transport's kind) and name the role and what failed, never a secret.
//
// Thread-safety: both are safe to call from many threads at once if the source provider and
// the StsClient's HttpFetch are.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "s3mount/auth/sts_client.h"
#include "s3mount/aws/credentials.h"

namespace s3mount {

// "s3mount-<unix seconds>" for `now`: the session name used when none is configured.
std::string DefaultRoleSessionName(WallTime now);

struct AssumeRoleSettings {
  std::string role_arn;           // required
  std::string role_session_name;  // empty: DefaultRoleSessionName(now) on each call
  std::string external_id;        // sent when non-empty
  std::optional<int> duration_seconds;
};

class AssumeRoleProvider final : public CredentialsProvider {
 public:
  // `source` signs the AssumeRole call; `sts` must outlive the provider.
  AssumeRoleProvider(std::shared_ptr<CredentialsProvider> source, StsClient& sts,
                     AssumeRoleSettings settings);

  Result<Credentials> GetCredentials() override;

  const AssumeRoleSettings& settings() const { return settings_; }

 private:
  const std::shared_ptr<CredentialsProvider> source_;
  StsClient& sts_;
  const AssumeRoleSettings settings_;
};

struct WebIdentitySettings {
  std::string token_file;         // required; re-read on every call (tokens rotate)
  std::string role_arn;           // required
  std::string role_session_name;  // empty: DefaultRoleSessionName(now) on each call
  std::optional<int> duration_seconds;
};

class WebIdentityProvider final : public CredentialsProvider {
 public:
  // `sts` must outlive the provider.
  WebIdentityProvider(StsClient& sts, WebIdentitySettings settings);

  Result<Credentials> GetCredentials() override;

  const WebIdentitySettings& settings() const { return settings_; }

 private:
  StsClient& sts_;
  const WebIdentitySettings settings_;
};

}  // namespace s3mount
