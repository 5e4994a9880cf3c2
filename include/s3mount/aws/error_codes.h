// The one table of AWS error codes: the `<Code>` (or JSON `__type`) an AWS service answers
// with, mapped to our closed ErrorCode values. S3 and SQS share it (their codes barely overlap
// and never disagree); each service keeps its own fallback for codes the table does not know,
// since what an unknown code means depends on the service's HTTP statuses.
//
// Thread-safety: a pure function.
#pragma once

#include <optional>
#include <string_view>

#include "s3mount/common/error.h"

namespace s3mount {

// The ErrorCode for an AWS error code (case-sensitive, as AWS sends it; SQS's legacy
// "AWS.SimpleQueueService." prefix and "Exception" suffix already removed), or nullopt when
// the table has no row for it:
//   not found: NoSuchKey, NonExistentQueue, QueueDoesNotExist; NoSuchBucket; NoSuchUpload;
//   access denied: AccessDenied, AllAccessDisabled, AccountProblem,
//     MissingAuthenticationToken, AuthFailure, KmsAccessDenied;
//   kInvalidAccessKeyId: InvalidAccessKeyId, InvalidClientTokenId, UnrecognizedClient;
//   kSignatureDoesNotMatch: SignatureDoesNotMatch, IncompleteSignature;
//   kExpiredToken: ExpiredToken, InvalidToken, TokenRefreshRequired;
//   kRequestTimeTooSkewed: RequestTimeTooSkewed, RequestExpired; PreconditionFailed;
//   kConflict: OperationAborted, ConditionalRequestConflict; InvalidRange;
//   kInvalidPart: InvalidPart, InvalidPartOrder, EntityTooSmall; EntityTooLarge;
//   kSlowDown: SlowDown, ThrottlingException, Throttling, RequestLimitExceeded,
//     RequestThrottled, OverLimit; ServiceUnavailable;
//   kInternalError: InternalError, InternalFailure; RequestTimeout;
//   kWrongRegion: PermanentRedirect, TemporaryRedirect, Redirect,
//     AuthorizationHeaderMalformed, IllegalLocationConstraintException; NotImplemented.
std::optional<ErrorCode> ErrorCodeFromAwsCode(std::string_view code);

}  // namespace s3mount
