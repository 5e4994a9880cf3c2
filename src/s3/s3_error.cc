// S3 error code table, status fallback, and reading of <Error> documents.
#include "s3/s3_error.h"

#include <array>
#include <utility>
#include <vector>

#include "s3mount/aws/error_codes.h"
#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

constexpr size_t kMaxQuotedBody = 200;

// At most kMaxQuotedBody bytes of `body` on one line: control bytes become spaces (runs of
// them collapse), bytes outside ASCII become '?'.
std::string QuoteBody(std::string_view body) {
  body = TrimAsciiSpace(body);
  std::string out;
  for (size_t i = 0; i < body.size() && i < kMaxQuotedBody; ++i) {
    const auto c = static_cast<unsigned char>(body[i]);
    if (c < 0x20 || c == 0x7f) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c < 0x80 ? static_cast<char>(c) : '?';
    }
  }
  if (body.size() > kMaxQuotedBody) out += "...";
  return out;
}

std::string_view StatusReason(int http_status) {
  switch (http_status) {
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

Error StatusOnlyError(int http_status, std::string message, std::string_view request_id) {
  Error error = MakeError(ErrorCodeFromHttpStatus(http_status), std::move(message));
  error.http_status = http_status;
  error.request_id = std::string(request_id);
  return error;
}

bool IsRegionName(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::vector<std::string_view> SplitLabels(std::string_view host) {
  std::vector<std::string_view> labels;
  size_t start = 0;
  while (start <= host.size()) {
    const size_t dot = host.find('.', start);
    const size_t end = dot == std::string_view::npos ? host.size() : dot;
    labels.push_back(host.substr(start, end - start));
    start = end + 1;
  }
  return labels;
}

// `bucket.s3.eu-west-1.amazonaws.com` -> eu-west-1 (see RegionFromErrorBody).
std::string RegionFromEndpoint(std::string_view endpoint) {
  endpoint = TrimAsciiSpace(endpoint);
  if (const size_t scheme = endpoint.find("://"); scheme != std::string_view::npos) {
    endpoint.remove_prefix(scheme + 3);
  }
  endpoint = endpoint.substr(0, endpoint.find_first_of(":/"));
  const std::vector<std::string_view> labels = SplitLabels(endpoint);
  size_t amazonaws = labels.size();
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == "amazonaws") amazonaws = i;
  }
  if (amazonaws == labels.size() || amazonaws == 0) return "";
  const std::string_view label = labels[amazonaws - 1];
  if (label == "s3" || label == "s3-external-1") return "us-east-1";
  if (label.substr(0, 3) == "s3-") {
    return IsRegionName(label.substr(3)) ? std::string(label.substr(3)) : "";
  }
  const bool after_s3 =
      amazonaws >= 2 && (labels[amazonaws - 2] == "s3" || labels[amazonaws - 2] == "dualstack");
  return after_s3 && IsRegionName(label) ? std::string(label) : "";
}

}  // namespace

ErrorCode ErrorCodeFromS3Code(std::string_view s3_code, int http_status) {
  if (s3_code.empty()) return ErrorCodeFromHttpStatus(http_status);
  if (auto known = ErrorCodeFromAwsCode(s3_code)) return *known;
  if (http_status >= 400 && http_status <= 499) return ErrorCode::kBadRequest;
  if (http_status == 500) return ErrorCode::kInternalError;
  if (http_status >= 502 && http_status <= 504) return ErrorCode::kServiceUnavailable;
  return ErrorCode::kUnknown;
}

ErrorCode ErrorCodeFromHttpStatus(int http_status) {
  switch (http_status) {
    case 301:
    case 307:
      return ErrorCode::kWrongRegion;
    case 304:
      return ErrorCode::kNotModified;
    case 400:
      return ErrorCode::kBadRequest;
    case 403:
      return ErrorCode::kAccessDenied;
    case 404:
      return ErrorCode::kNotFound;
    case 409:
      return ErrorCode::kConflict;
    case 412:
      return ErrorCode::kPreconditionFailed;
    case 416:
      return ErrorCode::kInvalidRange;
    case 429:
      return ErrorCode::kSlowDown;
    case 500:
      return ErrorCode::kInternalError;
    case 501:
      return ErrorCode::kNotImplemented;
    case 502:
    case 504:
      return ErrorCode::kServiceUnavailable;
    case 503:
      return ErrorCode::kSlowDown;
    default:
      break;
  }
  if (http_status >= 400 && http_status <= 499) return ErrorCode::kBadRequest;
  return ErrorCode::kUnknown;
}

Error ErrorFromErrorElement(XmlNode error, int http_status, std::string_view request_id) {
  Error result;
  result.s3_code = std::string(TrimAsciiSpace(error.ChildText("Code").value_or("")));
  result.code = ErrorCodeFromS3Code(result.s3_code, http_status);
  result.message = std::string(TrimAsciiSpace(error.ChildText("Message").value_or("")));
  const std::string body_request_id(TrimAsciiSpace(error.ChildText("RequestId").value_or("")));
  result.request_id = body_request_id.empty() ? std::string(request_id) : body_request_id;
  result.http_status = http_status;
  if (result.message.empty() && result.s3_code.empty()) {
    result.message = "S3 error without a code or message";
  }
  return result;
}

Error ErrorFromResponse(int http_status, std::string_view body, std::string_view request_id,
                        bool is_head) {
  const std::string_view reason = StatusReason(http_status);
  const std::string prefix =
      reason.empty() ? "HTTP " + std::to_string(http_status) : std::string(reason);
  if (is_head) return StatusOnlyError(http_status, prefix + " (HEAD: no body)", request_id);
  if (TrimAsciiSpace(body).empty()) {
    return StatusOnlyError(http_status, prefix + " (no error body)", request_id);
  }
  auto doc = XmlDocument::Parse(body);
  if (!doc.ok()) {
    return StatusOnlyError(http_status, prefix + "; error body is not XML: " + QuoteBody(body),
                           request_id);
  }
  const XmlNode root = doc->Root();
  if (root.LocalName() != "Error") {
    return StatusOnlyError(
        http_status, prefix + "; error body is not an S3 <Error> document: " + QuoteBody(body),
        request_id);
  }
  return ErrorFromErrorElement(root, http_status, request_id);
}

std::string RegionFromErrorBody(std::string_view body) {
  if (TrimAsciiSpace(body).empty()) return "";
  auto doc = XmlDocument::Parse(body);
  if (!doc.ok()) return "";
  const XmlNode root = doc->Root();
  if (root.LocalName() != "Error") return "";
  std::string region(TrimAsciiSpace(root.ChildText("Region").value_or("")));
  if (IsRegionName(region)) return region;
  return RegionFromEndpoint(root.ChildText("Endpoint").value_or(""));
}

}  // namespace s3mount
