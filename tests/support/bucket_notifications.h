// RouteBucketEventsToNewQueue: sets up S3 event notifications on a MotoServer the way a user
// does on AWS: creates an SQS queue and points the bucket's ObjectCreated:* and
// ObjectRemoved:* notifications at it (through boto3, an independent client). Returns the
// queue URL.
//
// Thread-safety: a plain function (it runs a python3 subprocess).
#pragma once

#include <string>

#include "s3mount/common/result.h"
#include "tests/support/moto_server.h"

namespace s3mount::testing {

Result<std::string> RouteBucketEventsToNewQueue(const MotoServer& server, const std::string& bucket,
                                                const std::string& queue_name);

}  // namespace s3mount::testing
