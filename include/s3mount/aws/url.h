// ParseHttpUrl: the one parser for every http(s) URL s3mount is given (the S3 endpoint=, the
// STS endpoint, the SQS queue URL, the container credentials URI). It is libcurl's own URL
// parser (curl_url), so what is checked and signed is what curl sends; each caller then
// applies its own rules (no credentials, no query, a path shape) with its own messages.
//
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>

#include "s3mount/common/result.h"

namespace s3mount {

struct ParsedUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 address keeps its brackets ("[::1]")
  std::string port;    // decimal, as curl normalizes it; empty when the URL gives none
  std::string path;    // as given ("/" when the URL has none); no query or fragment
  bool has_user_info = false;
  bool has_query = false;
  bool has_fragment = false;

  // Whether the URL names the scheme's default port, or none.
  bool DefaultPort() const;
  // host[:port] as curl sends it in the Host header (a default port left out), which is what
  // a SigV4 signature must cover.
  std::string HostHeader() const;
};

// Parses an absolute http or https URL. Errors are kInvalidArgument with a reason that reads
// after the URL: "has no scheme (http:// or https://)", "has the scheme 'ftp', which is not
// http(s); use http or https", "has no host", "has an invalid port (not 1 to 65535)", or "is
// malformed (curl: REASON)". The URL itself is never repeated (it may hold a password).
Result<ParsedUrl> ParseHttpUrl(std::string_view url);

}  // namespace s3mount
