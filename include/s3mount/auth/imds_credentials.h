// ImdsCredentialsProvider: the EC2 instance profile's role credentials from the instance
// metadata service, IMDSv2:
//   PUT  <endpoint>/latest/api/token                 x-aws-ec2-metadata-token-ttl-seconds: N
//   GET  <endpoint>/latest/meta-data/iam/security-credentials/        -> the role name
//   GET  <endpoint>/latest/meta-data/iam/security-credentials/<role>  -> the credentials
// with the token in `x-aws-ec2-metadata-token` on both GETs. The token is kept until a minute
// before its TTL ends (and dropped when a GET answers 401). When the token PUT answers 403,
// 404 or 405 and allow_v1_fallback is set, the GETs go without a token (IMDSv1); a timeout or
// any other failure of the PUT is an error, never a fallback. The reply is
// {"Code":"Success","AccessKeyId","SecretAccessKey","Token","Expiration"}.
//
// Errors (kCredentials) name the endpoint, the step and the reason, never the token or a key.
//
// Thread-safety: GetCredentials may be called from any thread (the HttpFetch must allow it).
// LOCK ORDERING: mu_ is a leaf; it guards the token and is never held during a fetch.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "s3mount/aws/credentials.h"
#include "s3mount/aws/http_client.h"
#include "s3mount/aws/http_fetch.h"
#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"

namespace s3mount {

struct ImdsOptions {
  std::string endpoint = "http://169.254.169.254";  // no trailing slash needed
  // Whether IMDSv1 may be used when the token PUT answers 403/404/405. FromEnvironment sets
  // it unless AWS_EC2_METADATA_V1_DISABLED is true (botocore's default and switch).
  bool allow_v1_fallback = false;
  std::chrono::seconds token_ttl{21600};
  // For the HttpClient the caller binds (see ImdsHttpClientOptions): IMDS answers in
  // milliseconds on EC2 and not at all elsewhere, so waiting long only delays the chain.
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds request_timeout{2000};
  // Set by FromEnvironment when AWS_EC2_METADATA_DISABLED is true; GetCredentials then fails
  // at once with that reason.
  bool disabled = false;

  // Defaults, with AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED and
  // AWS_EC2_METADATA_V1_DISABLED applied.
  static ImdsOptions FromEnvironment();
};

// HttpClientOptions with the timeouts of `options`.
HttpClientOptions ImdsHttpClientOptions(const ImdsOptions& options);

class ImdsCredentialsProvider final : public CredentialsProvider {
 public:
  // `clock` (for the token's lifetime) must outlive the provider.
  ImdsCredentialsProvider(HttpFetch fetch, ImdsOptions options, Clock& clock);

  Result<Credentials> GetCredentials() override;

 private:
  // The token to send, "" in IMDSv1 mode.
  Result<std::string> Token();
  // GET `path` with `token`; the reply's body on 200. `step` is for messages.
  Result<std::string> Get(const std::string& path, const std::string& token, std::string_view step);
  Result<Credentials> FetchOnce(const std::string& token);
  void DropToken();

  const HttpFetch fetch_;
  const ImdsOptions options_;
  const std::string endpoint_;  // options_.endpoint without trailing '/'
  Clock& clock_;
  std::mutex mu_;
  std::string token_;            // guarded by mu_; "" when none
  MonoTime token_refresh_at_{};  // guarded by mu_
};

}  // namespace s3mount
