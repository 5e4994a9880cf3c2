// Endpoint resolution: which scheme, host and path prefix a bucket's requests go to, for AWS
// regional endpoints and for any custom endpoint (MinIO, Ceph, moto). Virtual-hosted
// addressing (`bucket.host`) is used where it can work; path-style (`host/bucket`) when asked,
// when the bucket name is not DNS-safe (or holds dots under https, which breaks the
// certificate's wildcard), or when the endpoint host is an IP address or `localhost`.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "s3mount/common/result.h"

namespace s3mount {

struct EndpointOptions {
  std::string endpoint_url;  // empty: AWS's regional endpoint for `region`
  std::string region = "us-east-1";
  bool force_path_style = false;
};

struct ResolvedEndpoint {
  std::string scheme;       // "https" or "http"
  std::string host;         // Host header value: name plus ":port" when not the default
  std::string path_prefix;  // "" (virtual-hosted) or "/bucket" (path-style), plus any
                            // path the endpoint URL itself carries
  bool path_style = false;

  // The URL of the bucket's root, without a trailing slash: scheme://host + path_prefix.
  std::string BaseUrl() const { return scheme + "://" + host + path_prefix; }
};

// Whether `bucket` can be a DNS label under a virtual-hosted endpoint.
bool IsDnsSafeBucketName(const std::string& bucket);

// Whether `host` (no port) is an IPv4 or IPv6 literal.
bool IsIpAddress(const std::string& host);

// AWS's endpoint host for a region ("s3.eu-west-1.amazonaws.com", ".amazonaws.com.cn" in
// China).
std::string AwsS3Host(const std::string& region);

// Validates the options and resolves where `bucket` lives. Errors (kInvalidArgument) name
// what is wrong: an unparseable URL, a scheme other than http/https, an empty bucket.
Result<ResolvedEndpoint> ResolveEndpoint(const EndpointOptions& options, const std::string& bucket);

}  // namespace s3mount
