// StsClient: a minimal AWS STS client (query protocol, API version 2011-06-15) for the two
// calls the credential chain needs: AssumeRole (SigV4-signed with the caller's credentials,
// service "sts") and AssumeRoleWithWebIdentity (unsigned; the web identity token is the
// proof). Requests are form POSTs to the regional endpoint `https://sts.<region>.amazonaws.com`
// (the global `https://sts.amazonaws.com` only for an empty region or "aws-global"), or to an
// endpoint override such as moto's `http://127.0.0.1:PORT`.
//
//   StsClient sts(FetchWith(http_client), clock, {.region = "eu-west-1"});
//   auto creds = sts.AssumeRole({.role_arn = "arn:aws:iam::123456789012:role/r",
//                                .role_session_name = "s3mount-1700000000"},
//                               source_credentials);
//
// Errors are kCredentials with a message naming the call, the role and STS's own code and
// message ("STS AssumeRole of arn:aws:iam::1:role/r failed: AccessDenied: ..."); transport
// failures keep their kind (kNetwork, kTimeout, ...) with the same prefix. No key, token or
// signature ever reaches an error message.
//
// Thread-safety: a StsClient is immutable after construction; its calls may run from many
// threads at once provided the HttpFetch accepts concurrent calls.
// LOCK ORDERING: no lock of its own; the signer's key-cache lock is a leaf, never held
// across the HTTP call.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3mount/aws/credentials.h"
#include "s3mount/aws/http_fetch.h"
#include "s3mount/aws/sigv4_signer.h"
#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"

namespace s3mount {

struct StsOptions {
  // "eu-west-1". Empty or "aws-global" means the global endpoint, signed for us-east-1.
  std::string region;
  // "http://127.0.0.1:5000" (moto), or empty for AWS's endpoint for `region`. A path in it
  // is kept ("https://proxy/sts" posts to /sts).
  std::string endpoint_override;
};

struct AssumeRoleRequest {
  std::string role_arn;           // required
  std::string role_session_name;  // required
  std::string external_id;        // sent when non-empty
  std::optional<int> duration_seconds;
};

struct AssumeRoleWithWebIdentityRequest {
  std::string role_arn;            // required
  std::string role_session_name;   // required
  std::string web_identity_token;  // required; never logged
  std::optional<int> duration_seconds;
};

// The endpoint URL a client with `options` posts to (no trailing slash unless the override
// has one), and the region it signs for.
std::string StsEndpointUrl(const StsOptions& options);
std::string StsSigningRegion(const StsOptions& options);

// The body of an STS query-protocol request: "Action=...&Version=2011-06-15&..." with every
// name and value percent-encoded (AWS UriEncode: ' ' as %20, '/' and ':' encoded), in the
// given order.
std::string EncodeStsForm(const std::vector<std::pair<std::string, std::string>>& fields);

// Reads the credentials out of the reply to `action` ("AssumeRole": `<AssumeRoleResponse>
// <AssumeRoleResult><Credentials>...`), or the `<ErrorResponse><Error><Code/><Message/>` form.
// Error messages open with "STS <action> of <role_arn> failed: ". Exposed for tests.
Result<Credentials> ParseStsCredentialsReply(std::string_view action, std::string_view role_arn,
                                             long http_status, std::string_view body);

class StsClient {
 public:
  StsClient(HttpFetch fetch, Clock& clock, const StsOptions& options);

  // AssumeRole signed with `source` (its session token, if any, is sent as
  // X-Amz-Security-Token). Anonymous `source` credentials are refused (kCredentials).
  Result<Credentials> AssumeRole(const AssumeRoleRequest& request, const Credentials& source) const;

  // AssumeRoleWithWebIdentity, unsigned.
  Result<Credentials> AssumeRoleWithWebIdentity(
      const AssumeRoleWithWebIdentityRequest& request) const;

  const std::string& endpoint_url() const { return endpoint_url_; }
  // The clock used for signing; providers use it for default session names.
  Clock& clock() const { return clock_; }
  const std::string& signing_region() const { return signing_region_; }

 private:
  // Posts `form` to the endpoint, signed with `source` when given, and parses the reply.
  // `secrets` are values to scrub from any error message.
  Result<Credentials> Call(std::string_view action, std::string_view role_arn,
                           const std::string& form, const Credentials* source,
                           const std::vector<std::string_view>& secrets) const;

  HttpFetch fetch_;
  Clock& clock_;
  const std::string endpoint_url_;
  const std::string signing_region_;
  // The endpoint split for signing: "https", "sts.eu-west-1.amazonaws.com" (with ":port"
  // when not the default), "/" (decoded). Empty host: endpoint_url_ did not parse.
  std::string scheme_;
  std::string host_;
  std::string path_;
  SigV4Signer signer_;
};

}  // namespace s3mount
