// The SQS queue URL: its parts (SplitSqsUrl), the check made at mount time
// (ValidateSqsQueueUrl) and the region an AWS queue URL names (SqsRegionFromQueueUrl).
#include "events/sqs_queue_url.h"

#include <string>
#include <string_view>
#include <vector>

#include "s3mount/aws/url.h"
#include "s3mount/common/strings.h"
#include "s3mount/events/sqs_client.h"

namespace s3mount {

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// 1 to 80 characters in all, ".fifo" included.
bool IsValidQueueName(std::string_view name) {
  if (name.size() > 80) return false;
  if (name.ends_with(".fifo")) name.remove_suffix(5);
  return IsValidSqsName(name, 80);
}

std::vector<std::string_view> SplitLabels(std::string_view host) {
  std::vector<std::string_view> labels;
  while (!host.empty()) {
    size_t dot = host.find('.');
    labels.push_back(host.substr(0, dot));
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  return labels;
}

}  // namespace

// Splits "scheme://host[:port]/path"; an error message when it does not look like that.
Result<SqsUrlParts> SplitSqsUrl(std::string_view url) {
  auto bad = [](std::string why) { return MakeError(ErrorCode::kInvalidArgument, std::move(why)); };
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return bad("it holds a space, a control or a non-ASCII character");
    }
  }
  auto parsed = ParseHttpUrl(url);
  if (!parsed.ok()) return bad("it " + parsed.error().message);
  if (parsed->has_user_info) return bad("it holds user information");
  if (parsed->has_query || parsed->has_fragment) return bad("it has a query or fragment");
  // curl leaves a default port out of the Host header; the signature must match it.
  return SqsUrlParts{parsed->scheme, parsed->HostHeader(), parsed->path};
}

bool IsValidSqsName(std::string_view name, size_t max_length) {
  if (name.empty() || name.size() > max_length) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

Status ValidateSqsQueueUrl(std::string_view queue_url) {
  auto fail = [&](std::string_view why, bool echo = true) {
    std::string shown = echo ? " '" + std::string(queue_url.substr(0, 300)) + "'" : "";
    return MakeError(ErrorCode::kInvalidArgument,
                     "the SQS queue URL" + shown + " is not valid: " + std::string(why));
  };
  if (queue_url.empty()) return fail("it is empty", false);
  auto parts = SplitSqsUrl(queue_url);
  if (!parts.ok()) {
    // Never echo a URL with user information: it may hold a password.
    bool echo = queue_url.find('@') == std::string_view::npos;
    return fail(parts.error().message, echo);
  }
  std::string_view path = parts->path;
  path.remove_prefix(1);  // the leading '/'
  size_t slash = path.find('/');
  if (slash == std::string_view::npos || path.find('/', slash + 1) != std::string_view::npos) {
    return fail("the path is not /ACCOUNT/QUEUE_NAME");
  }
  if (!IsValidSqsName(path.substr(0, slash), 64)) {
    return fail(
        "the account part of the path is empty or holds characters other than "
        "letters, digits, '-' and '_'");
  }
  if (!IsValidQueueName(path.substr(slash + 1))) {
    return fail(
        "the queue name must be 1 to 80 letters, digits, '-' or '_' (optionally "
        "ending in .fifo)");
  }
  return OkStatus();
}

std::string SqsRegionFromQueueUrl(std::string_view queue_url) {
  auto parts = SplitSqsUrl(queue_url);
  if (!parts.ok()) return "";
  std::string_view host = parts->host;
  host = host.substr(0, host.rfind(':') == std::string_view::npos ? host.size() : host.rfind(':'));
  std::vector<std::string_view> labels = SplitLabels(host);
  bool is_aws = false;
  for (std::string_view label : labels) is_aws = is_aws || label == "amazonaws";
  if (!is_aws) return "";
  for (size_t i = 0; i + 1 < labels.size(); ++i) {
    std::string_view label = labels[i];
    bool sqs_label = label == "sqs" || label == "sqs-fips" || label.ends_with(".sqs");
    if (sqs_label && labels[i + 1] != "amazonaws") return std::string(labels[i + 1]);
    if (labels[i + 1] == "queue") return std::string(label);
  }
  if (!labels.empty() && labels[0] == "queue") return "us-east-1";
  return "";
}

}  // namespace s3mount
