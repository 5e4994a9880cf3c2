// Set-up a test does on a MotoServer the way a user does on AWS, through boto3 (a client
// independent of s3mount's code) with the server's own keys:
//  - RouteBucketEventsToNewQueue: creates an SQS queue and points the bucket's
//    ObjectCreated:* and ObjectRemoved:* notifications at it; returns the queue URL.
//  - CreateAllowAllRole: an IAM role anyone may assume (AssumeRole and
//    AssumeRoleWithWebIdentity) with an allow-* inline policy, since moto checks an assumed
//    role's own policies when it enforces signatures. Idempotent.
//
// Thread-safety: plain functions (each runs a python3 subprocess).
#pragma once

#include <string>

#include "s3mount/common/result.h"
#include "tests/support/moto_server.h"

namespace s3mount::testing {

Result<std::string> RouteBucketEventsToNewQueue(const MotoServer& server, const std::string& bucket,
                                                const std::string& queue_name);

Status CreateAllowAllRole(const MotoServer& server, const std::string& role_name);

}  // namespace s3mount::testing
