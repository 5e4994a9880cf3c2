// Endpoint resolution: URL parsing of the custom endpoint and the addressing-style choice.
#include "s3mount/s3/endpoint.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

struct ParsedUrl {
  std::string scheme;
  std::string host;  // without brackets for IPv6
  std::string port;  // empty when absent
  std::string path;  // without trailing slash
};

Result<ParsedUrl> ParseEndpointUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "endpoint URL '" + url + "' has no scheme (expected http:// or https://)");
  }
  ParsedUrl parsed;
  parsed.scheme = AsciiLower(url.substr(0, scheme_end));
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "endpoint URL '" + url + "' must use http or https");
  }
  std::string rest = url.substr(scheme_end + 3);
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    parsed.path = rest.substr(slash);
    while (!parsed.path.empty() && parsed.path.back() == '/') parsed.path.pop_back();
  }
  if (authority.find('@') != std::string::npos || authority.find('?') != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "endpoint URL '" + url + "' must not hold credentials or a query");
  }
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "endpoint URL '" + url + "' has a bad IPv6 host");
    }
    parsed.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        return MakeError(ErrorCode::kInvalidArgument, "endpoint URL '" + url + "' is malformed");
      }
      parsed.port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.rfind(':');
    parsed.host = authority.substr(0, colon);
    if (colon != std::string::npos) parsed.port = authority.substr(colon + 1);
  }
  parsed.host = AsciiLower(parsed.host);
  if (parsed.host.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "endpoint URL '" + url + "' has no host");
  }
  if (!parsed.port.empty() && (parsed.port.size() > 5 ||
                               !std::all_of(parsed.port.begin(), parsed.port.end(),
                                            [](unsigned char c) { return std::isdigit(c); }) ||
                               std::stoi(parsed.port) == 0 || std::stoi(parsed.port) > 65535)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "endpoint URL '" + url + "' has an invalid port '" + parsed.port + "'");
  }
  return parsed;
}

bool IsDefaultPort(const std::string& scheme, const std::string& port) {
  return port.empty() || (scheme == "https" && port == "443") || (scheme == "http" && port == "80");
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

std::string AwsS3Host(const std::string& region) {
  const std::string suffix = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return "s3." + region + "." + suffix;
}

Result<ResolvedEndpoint> ResolveEndpoint(const EndpointOptions& options,
                                         const std::string& bucket) {
  if (bucket.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "bucket name is empty");
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
  endpoint.path_style = options.force_path_style || !IsDnsSafeBucketName(bucket) ||
                        dots_break_tls || IsIpAddress(url.host) || url.host == "localhost";
  const bool ipv6 = url.host.find(':') != std::string::npos;
  std::string host = ipv6 ? "[" + url.host + "]" : url.host;
  if (!endpoint.path_style) host = bucket + "." + host;
  if (!IsDefaultPort(url.scheme, url.port)) host += ":" + url.port;
  endpoint.host = std::move(host);
  endpoint.path_prefix = url.path + (endpoint.path_style ? "/" + bucket : "");
  return endpoint;
}

}  // namespace s3mount
