// The AWS error-code table (see include/s3mount/aws/error_codes.h).
#include "s3mount/aws/error_codes.h"

#include <array>

namespace s3mount {
namespace {

struct CodeMapping {
  std::string_view aws_code;
  ErrorCode code;
};

constexpr std::array<CodeMapping, 45> kCodeTable = {{
    {"NoSuchKey", ErrorCode::kNotFound},
    {"NonExistentQueue", ErrorCode::kNotFound},
    {"QueueDoesNotExist", ErrorCode::kNotFound},
    {"NoSuchBucket", ErrorCode::kNoSuchBucket},
    {"NoSuchUpload", ErrorCode::kNoSuchUpload},
    {"AccessDenied", ErrorCode::kAccessDenied},
    {"AllAccessDisabled", ErrorCode::kAccessDenied},
    {"AccountProblem", ErrorCode::kAccessDenied},
    {"MissingAuthenticationToken", ErrorCode::kAccessDenied},
    {"AuthFailure", ErrorCode::kAccessDenied},
    {"KmsAccessDenied", ErrorCode::kAccessDenied},
    {"InvalidAccessKeyId", ErrorCode::kInvalidAccessKeyId},
    {"InvalidClientTokenId", ErrorCode::kInvalidAccessKeyId},
    {"UnrecognizedClient", ErrorCode::kInvalidAccessKeyId},
    {"SignatureDoesNotMatch", ErrorCode::kSignatureDoesNotMatch},
    {"IncompleteSignature", ErrorCode::kSignatureDoesNotMatch},
    {"ExpiredToken", ErrorCode::kExpiredToken},
    {"InvalidToken", ErrorCode::kExpiredToken},
    {"TokenRefreshRequired", ErrorCode::kExpiredToken},
    {"RequestTimeTooSkewed", ErrorCode::kRequestTimeTooSkewed},
    {"RequestExpired", ErrorCode::kRequestTimeTooSkewed},
    {"PreconditionFailed", ErrorCode::kPreconditionFailed},
    {"OperationAborted", ErrorCode::kConflict},
    {"ConditionalRequestConflict", ErrorCode::kConflict},
    {"InvalidRange", ErrorCode::kInvalidRange},
    {"InvalidPart", ErrorCode::kInvalidPart},
    {"InvalidPartOrder", ErrorCode::kInvalidPart},
    {"EntityTooSmall", ErrorCode::kInvalidPart},
    {"EntityTooLarge", ErrorCode::kEntityTooLarge},
    {"SlowDown", ErrorCode::kSlowDown},
    {"ThrottlingException", ErrorCode::kSlowDown},
    {"Throttling", ErrorCode::kSlowDown},
    {"RequestLimitExceeded", ErrorCode::kSlowDown},
    {"RequestThrottled", ErrorCode::kSlowDown},
    {"OverLimit", ErrorCode::kSlowDown},
    {"ServiceUnavailable", ErrorCode::kServiceUnavailable},
    {"InternalError", ErrorCode::kInternalError},
    {"InternalFailure", ErrorCode::kInternalError},
    {"RequestTimeout", ErrorCode::kRequestTimeout},
    {"PermanentRedirect", ErrorCode::kWrongRegion},
    {"TemporaryRedirect", ErrorCode::kWrongRegion},
    {"Redirect", ErrorCode::kWrongRegion},  // S3's legacy temporary redirect (307)
    {"AuthorizationHeaderMalformed", ErrorCode::kWrongRegion},
    {"IllegalLocationConstraintException", ErrorCode::kWrongRegion},
    {"NotImplemented", ErrorCode::kNotImplemented},
}};

}  // namespace

std::optional<ErrorCode> ErrorCodeFromAwsCode(std::string_view code) {
  for (const CodeMapping& mapping : kCodeTable) {
    if (mapping.aws_code == code) return mapping.code;
  }
  return std::nullopt;
}

}  // namespace s3mount
