// Internal to SqsClient: the parts of an SQS queue URL and the rule for SQS names (queue,
// account, batch entry ids). The public checks are in s3mount/events/sqs_client.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "s3mount/common/result.h"

namespace s3mount {

struct SqsUrlParts {
  std::string scheme;
  std::string host;  // lower case, default port removed
  std::string path;
};

// Splits "scheme://host[:port]/path" (http or https; no user info, query or fragment);
// kInvalidArgument with what is wrong when it does not look like that.
Result<SqsUrlParts> SplitSqsUrl(std::string_view url);

// 1 to `max_length` of [A-Za-z0-9_-].
bool IsValidSqsName(std::string_view name, size_t max_length);

}  // namespace s3mount
