// Endpoint resolution: the custom endpoint (parsed by aws/url) and the addressing-style choice.
#include "s3mount/s3/endpoint.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "s3mount/aws/url.h"
#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

// The custom endpoint URL, parsed; errors name it.
Result<ParsedUrl> ParseEndpointUrl(const std::string& url) {
  auto parsed = ParseHttpUrl(url);
  if (!parsed.ok()) {
    // Never echo a URL with user information: it may hold a password.
    const std::string shown = url.find('@') == std::string::npos ? " '" + url + "'" : "";
    return MakeError(ErrorCode::kInvalidArgument,
                     "endpoint URL" + shown + " " + parsed.error().message);
  }
  if (parsed->has_user_info || parsed->has_query || parsed->has_fragment) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "endpoint URL must not hold credentials, a query or a fragment");
  }
  // The endpoint's own path prefixes every request path; without a trailing slash.
  while (!parsed->path.empty() && parsed->path.back() == '/') parsed->path.pop_back();
  return parsed;
}

}  // namespace

bool IsDnsSafeBucketName(const std::string& bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  if (bucket.front() == '-' || bucket.back() == '-' || bucket.front() == '.' ||
      bucket.back() == '.') {
    return false;
  }
  if (bucket.find("..") != std::string::npos || IsIpAddress(bucket)) return false;
  return std::all_of(bucket.begin(), bucket.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

bool IsIpAddress(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

bool IsAwsHost(const std::string& host) {
  const std::string lower = AsciiLower(host);
  return lower.ends_with(".amazonaws.com") || lower.ends_with(".amazonaws.com.cn");
}

std::string AwsS3Host(const std::string& region) {
  const std::string suffix = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return "s3." + region + "." + suffix;
}

Result<ResolvedEndpoint> ResolveEndpoint(const EndpointOptions& options,
                                         const std::string& bucket) {
  if (bucket.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "bucket name is empty");
  }
  if (options.force_path_style && options.force_virtual_hosted) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "path_style and virtual_hosted ask for opposite addressing styles");
  }
  ParsedUrl url;
  if (options.endpoint_url.empty()) {
    if (options.region.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "no region and no endpoint URL");
    }
    url.scheme = "https";
    url.host = AwsS3Host(options.region);
  } else {
    auto parsed = ParseEndpointUrl(options.endpoint_url);
    S3M_RETURN_IF_ERROR(parsed);
    url = std::move(parsed).value();
  }
  ResolvedEndpoint endpoint;
  endpoint.scheme = url.scheme;
  const bool dots_break_tls = url.scheme == "https" && bucket.find('.') != std::string::npos;
  // An IPv6 host keeps its brackets in the URL and Host header, not for inet_pton.
  const bool ipv6 = url.host.starts_with('[');
  const std::string address = ipv6 ? url.host.substr(1, url.host.size() - 2) : url.host;
  const bool custom_host_path_style = !IsAwsHost(address) && !options.force_virtual_hosted;
  endpoint.path_style = options.force_path_style || custom_host_path_style ||
                        !IsDnsSafeBucketName(bucket) || dots_break_tls || IsIpAddress(address);
  std::string host = url.HostHeader();
  if (!endpoint.path_style) host = bucket + "." + host;
  endpoint.host = std::move(host);
  endpoint.path_prefix = url.path + (endpoint.path_style ? "/" + bucket : "");
  return endpoint;
}

}  // namespace s3mount
