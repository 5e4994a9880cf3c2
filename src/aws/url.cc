// ParseHttpUrl over libcurl's curl_url (see include/s3mount/aws/url.h).
#include "s3mount/aws/url.h"

#include <curl/curl.h>

#include <memory>
#include <optional>
#include <string>

#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

Error BadUrl(std::string reason) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(reason));
}

// One part of a parsed URL; nullopt when the URL has none.
std::optional<std::string> Part(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) return std::nullopt;
  std::string text(value);
  curl_free(value);
  return text;
}

}  // namespace

bool ParsedUrl::DefaultPort() const {
  return port.empty() || (scheme == "https" && port == "443") || (scheme == "http" && port == "80");
}

std::string ParsedUrl::HostHeader() const { return DefaultPort() ? host : host + ":" + port; }

Result<ParsedUrl> ParseHttpUrl(std::string_view url) {
  const std::string text(url);
  // Without "://" curl would read "host:port" as a scheme; with "://" and an empty authority
  // ("https:///a/b") it would read the first path segment as the host.
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string::npos) return BadUrl("has no scheme (http:// or https://)");
  if (text.compare(scheme_end + 3, 1, "/") == 0) return BadUrl("has no host");
  std::unique_ptr<CURLU, UrlDeleter> handle(curl_url());
  if (!handle) return MakeError(ErrorCode::kInternalError, "out of memory parsing a URL");
  const CURLUcode code = curl_url_set(handle.get(), CURLUPART_URL, text.c_str(),
                                      CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS);
  switch (code) {
    case CURLUE_OK:
      break;
    case CURLUE_NO_HOST:
      return BadUrl("has no host");
    case CURLUE_BAD_PORT_NUMBER:
      return BadUrl("has an invalid port (not 1 to 65535)");
    default:
      return BadUrl(std::string("is malformed (curl: ") + curl_url_strerror(code) + ")");
  }
  ParsedUrl parsed;
  parsed.scheme = AsciiLower(Part(handle.get(), CURLUPART_SCHEME).value_or(""));
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    return BadUrl("has the scheme '" + parsed.scheme +
                  "', which is not http(s); use http or https");
  }
  parsed.host = AsciiLower(Part(handle.get(), CURLUPART_HOST).value_or(""));
  if (parsed.host.empty()) return BadUrl("has no host");
  parsed.port = Part(handle.get(), CURLUPART_PORT).value_or("");
  if (parsed.port == "0") return BadUrl("has an invalid port (not 1 to 65535)");
  std::optional<std::string> path = Part(handle.get(), CURLUPART_PATH);
  parsed.path = path.has_value() && !path->empty() ? std::move(*path) : std::string(1, '/');
  parsed.has_user_info = Part(handle.get(), CURLUPART_USER).has_value() ||
                         Part(handle.get(), CURLUPART_PASSWORD).has_value();
  parsed.has_query = Part(handle.get(), CURLUPART_QUERY).has_value();
  parsed.has_fragment = Part(handle.get(), CURLUPART_FRAGMENT).has_value();
  return parsed;
}

}  // namespace s3mount
