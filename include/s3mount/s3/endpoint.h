// Endpoint resolution: which scheme, host and path prefix a bucket's requests go to, for AWS
// regional endpoints and for any custom endpoint (MinIO, Ceph, moto). AWS's own endpoints
// (`*.amazonaws.com`, `*.amazonaws.com.cn`) are addressed virtual-hosted (`bucket.host`)
// where that can work; custom endpoints path-style (`host/bucket`), as boto3 and rclone do:
// `http://minio:9000` has no `bucket.minio` in DNS. Either can be forced; path-style is used
// anyway when the bucket name is not DNS-safe (or holds dots under https, which breaks the
// certificate's wildcard) or the endpoint host is an IP address.
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
  // Virtual-hosted even on a custom endpoint (when the bucket name and host allow it).
  bool force_virtual_hosted = false;
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

// Whether `host` (no port, any case) is one of AWS's S3 endpoints: it ends in
// `.amazonaws.com` or `.amazonaws.com.cn`.
bool IsAwsHost(const std::string& host);

// Whether `host` (no port) is an IPv4 or IPv6 literal.
bool IsIpAddress(const std::string& host);

// AWS's endpoint host for a region ("s3.eu-west-1.amazonaws.com", ".amazonaws.com.cn" in
// China).
std::string AwsS3Host(const std::string& region);

// Validates the options and resolves where `bucket` lives. Errors (kInvalidArgument) name
// what is wrong: an unparseable URL, a scheme other than http/https, an empty bucket.
Result<ResolvedEndpoint> ResolveEndpoint(const EndpointOptions& options, const std::string& bucket);

}  // namespace s3mount
