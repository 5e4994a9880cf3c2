// CredentialChain: the credentials a mount signs with, found the way the AWS CLI (botocore)
// finds them, or from the one source a mount option names, optionally followed by an STS
// AssumeRole of the `role_arn=` option.
//
// The default chain, in botocore's order; the first source that is *configured* is used for
// the life of the mount (its own refreshes included), and a configured source that fails
// makes the chain fail rather than fall through, as in botocore:
//   1. environment        AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN]
//   2. profile, assume role   role_arn + source_profile (chained) or credential_source
//   3. web identity       the profile's web_identity_token_file + role_arn, else
//                         AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN [+ AWS_ROLE_SESSION_NAME]
//   4. profile, SSO       sso_session or the legacy sso_start_url keys
//   5. profile, static keys   aws_access_key_id + aws_secret_access_key (re-read on change)
//   6. profile, credential_process
//   7. container          AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI
//   8. instance metadata  IMDSv2, unless AWS_EC2_METADATA_DISABLED=true
// The profile is AWS_PROFILE (else AWS_DEFAULT_PROFILE, else "default"). A default profile
// missing from both files is skipped; a profile named in AWS_PROFILE or profile= must exist.
// With profile= (or credentials_file=) only that profile's sources (2-6) are looked at.
//
// Every temporary source (STS, SSO, container, IMDS, credential_process) sits inside a
// RefreshingCredentialsProvider: refreshed before expiry while the old keys keep signing (in
// the background once EnableBackgroundRefresh() was called).
//
// Errors are kCredentials (or the failing transport's kind). When nothing is configured, or
// the chosen source fails, the message names every source looked at and why each was skipped
// or failed ("environment: AWS_ACCESS_KEY_ID is not set; profile 'default': not found in ...;
// ...; instance metadata: ..."), and never a secret.
//
// Thread-safety: Build is a plain function; GetCredentials may be called from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "s3mount/auth/assume_role_credentials.h"
#include "s3mount/auth/container_credentials.h"
#include "s3mount/auth/imds_credentials.h"
#include "s3mount/auth/profile_credentials.h"
#include "s3mount/auth/refreshing_credentials.h"
#include "s3mount/auth/sts_client.h"
#include "s3mount/aws/credentials.h"
#include "s3mount/aws/http_fetch.h"

namespace s3mount {

// The environment variables the chain reads, captured once (tests fill them in by hand).
struct ChainEnvironment {
  std::string access_key_id;            // AWS_ACCESS_KEY_ID
  std::string secret_access_key;        // AWS_SECRET_ACCESS_KEY; never logged
  std::string session_token;            // AWS_SESSION_TOKEN; never logged
  std::string profile;                  // AWS_PROFILE, else AWS_DEFAULT_PROFILE; "" when unset
  AwsSharedFiles files;                 // AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE or ~/.aws/*
  std::string web_identity_token_file;  // AWS_WEB_IDENTITY_TOKEN_FILE
  std::string role_arn;                 // AWS_ROLE_ARN
  std::string role_session_name;        // AWS_ROLE_SESSION_NAME
  ContainerEnvironment container;
  ImdsOptions imds;           // AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED
  std::string sts_endpoint;   // AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL
  std::string sso_endpoint;   // AWS_ENDPOINT_URL_SSO, else AWS_ENDPOINT_URL
  std::string sso_cache_dir;  // "" = ~/.aws/sso/cache (where `aws sso login` writes)

  // Fails only when the shared files' paths need a home directory that cannot be found.
  static Result<ChainEnvironment> FromProcess();
};

// What the mount asked for.
struct ChainRequest {
  // A source a mount option names (keys, passwd_file=, public); null: the profile or chain.
  std::shared_ptr<CredentialsProvider> explicit_source;
  // profile= / credentials_file=: only this profile ("" = AWS_PROFILE or "default").
  std::optional<std::string> profile;
  // role_arn= (empty: none): assumed with whatever the rest found.
  AssumeRoleSettings assume_role;
};

// What the chain needs from its surroundings; `clock` must outlive the chain.
struct ChainContext {
  Clock* clock = nullptr;
  HttpFetch fetch;       // STS, the SSO portal, container endpoints
  HttpFetch imds_fetch;  // the instance metadata service (short timeouts)
  StsOptions sts;        // region and endpoint override of STS calls
  RefreshOptions refresh;
};

class CredentialChain final : public CredentialsProvider {
 public:
  static Result<std::unique_ptr<CredentialChain>> Build(const ChainRequest& request,
                                                        const ChainEnvironment& environment,
                                                        ChainContext context);
  ~CredentialChain() override;
  CredentialChain(const CredentialChain&) = delete;
  CredentialChain& operator=(const CredentialChain&) = delete;

  Result<Credentials> GetCredentials() override;

  // Lets every refreshing provider in the chain refresh on its own thread from now on (see
  // RefreshingCredentialsProvider::EnableBackgroundRefresh): call once the process has
  // daemonized.
  void EnableBackgroundRefresh();

  // Which source is used, for the log: "profile 'dev': assume role arn:... with the static
  // keys of profile 'base'". Holds no secret.
  const std::string& description() const { return description_; }

 private:
  CredentialChain() = default;
  friend class ChainAssembler;

  // Owned here because the providers hold references to them; declared first, so destroyed
  // after provider_.
  std::vector<std::unique_ptr<StsClient>> sts_clients_;
  std::shared_ptr<CredentialsProvider> provider_;
  // Every RefreshingCredentialsProvider under provider_ (owned through it).
  std::vector<RefreshingCredentialsProvider*> refreshing_;
  std::string description_;
  // "environment: ...; profile 'default': ..." for the sources skipped before provider_.
  std::string skipped_;
};

}  // namespace s3mount
