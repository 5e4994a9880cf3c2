// ContainerCredentialsProvider: credentials from the endpoint a container runtime provides
// (ECS task roles, EKS Pod Identity, Greengrass...), found through the environment:
//   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI  GET http://169.254.170.2<uri> (wins when both set)
//   AWS_CONTAINER_CREDENTIALS_FULL_URI      GET <uri>; https to any host, plain http only to a
//                                           loopback host (127.0.0.0/8, [::1], localhost) or
//                                           the ECS/EKS link-local agents (169.254.170.2,
//                                           169.254.170.23, [fd00:ec2::23]) as the AWS SDKs
//                                           allow; anything else is refused
//   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE  its contents are the Authorization header (read on
//                                           every fetch, so a rotated token is seen)
//   AWS_CONTAINER_AUTHORIZATION_TOKEN       the Authorization header, when there is no file
// The reply is {"AccessKeyId","SecretAccessKey","Token","Expiration"}.
//
// Every GetCredentials fetches (caching and refresh belong to the caller). Errors
// (kCredentials) name the variable or the URL (without its query) and the reason, never the
// authorization token or a key.
//
// Thread-safety: GetCredentials may be called from any thread (the HttpFetch must allow it).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "s3mount/aws/credentials.h"
#include "s3mount/aws/http_fetch.h"
#include "s3mount/common/result.h"

namespace s3mount {

// The environment variables the provider reads, so that tests need not setenv.
struct ContainerEnvironment {
  std::string relative_uri;              // AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  std::string full_uri;                  // AWS_CONTAINER_CREDENTIALS_FULL_URI
  std::string authorization_token;       // AWS_CONTAINER_AUTHORIZATION_TOKEN
  std::string authorization_token_file;  // AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE

  // Reads the variables from the process environment (unset = empty).
  static ContainerEnvironment FromProcess();
  // Whether either URI variable is set, i.e. the provider applies at all.
  bool configured() const { return !relative_uri.empty() || !full_uri.empty(); }
};

inline constexpr std::string_view kEcsContainerEndpoint = "http://169.254.170.2";

// The URL to fetch, or why there is none (kCredentials).
Result<std::string> ContainerCredentialsUrl(const ContainerEnvironment& environment);

// Whether plain http to `host` (as in a URL: lower case, IPv6 in brackets) is allowed.
bool IsAllowedContainerHttpHost(std::string_view host);

class ContainerCredentialsProvider final : public CredentialsProvider {
 public:
  ContainerCredentialsProvider(HttpFetch fetch, ContainerEnvironment environment)
      : fetch_(std::move(fetch)), environment_(std::move(environment)) {}

  // A provider over the process environment.
  static std::unique_ptr<ContainerCredentialsProvider> FromEnvironment(HttpFetch fetch);

  Result<Credentials> GetCredentials() override;

 private:
  Result<std::string> AuthorizationHeader() const;

  const HttpFetch fetch_;
  const ContainerEnvironment environment_;
};

}  // namespace s3mount
