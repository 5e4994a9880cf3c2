// Names and classification of ErrorCode values, and Error formatting.
#include "s3mount/common/error.h"

namespace s3mount {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kCredentials:
      return "Credentials";
    case ErrorCode::kCancelled:
      return "Cancelled";
    case ErrorCode::kNetwork:
      return "Network";
    case ErrorCode::kHostNotFound:
      return "HostNotFound";
    case ErrorCode::kTls:
      return "Tls";
    case ErrorCode::kTimeout:
      return "Timeout";
    case ErrorCode::kTruncatedBody:
      return "TruncatedBody";
    case ErrorCode::kInvalidResponse:
      return "InvalidResponse";
    case ErrorCode::kChecksumMismatch:
      return "ChecksumMismatch";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kNoSuchBucket:
      return "NoSuchBucket";
    case ErrorCode::kNoSuchUpload:
      return "NoSuchUpload";
    case ErrorCode::kAccessDenied:
      return "AccessDenied";
    case ErrorCode::kInvalidAccessKeyId:
      return "InvalidAccessKeyId";
    case ErrorCode::kSignatureDoesNotMatch:
      return "SignatureDoesNotMatch";
    case ErrorCode::kExpiredToken:
      return "ExpiredToken";
    case ErrorCode::kRequestTimeTooSkewed:
      return "RequestTimeTooSkewed";
    case ErrorCode::kPreconditionFailed:
      return "PreconditionFailed";
    case ErrorCode::kNotModified:
      return "NotModified";
    case ErrorCode::kConflict:
      return "Conflict";
    case ErrorCode::kInvalidRange:
      return "InvalidRange";
    case ErrorCode::kInvalidPart:
      return "InvalidPart";
    case ErrorCode::kEntityTooLarge:
      return "EntityTooLarge";
    case ErrorCode::kSlowDown:
      return "SlowDown";
    case ErrorCode::kServiceUnavailable:
      return "ServiceUnavailable";
    case ErrorCode::kInternalError:
      return "InternalError";
    case ErrorCode::kRequestTimeout:
      return "RequestTimeout";
    case ErrorCode::kWrongRegion:
      return "WrongRegion";
    case ErrorCode::kBadRequest:
      return "BadRequest";
    case ErrorCode::kNotImplemented:
      return "NotImplemented";
    case ErrorCode::kUnknown:
      return "Unknown";
    case ErrorCode::kReadOnly:
      return "ReadOnly";
    case ErrorCode::kIsDirectory:
      return "IsDirectory";
    case ErrorCode::kNotDirectory:
      return "NotDirectory";
    case ErrorCode::kNotEmpty:
      return "NotEmpty";
    case ErrorCode::kAlreadyExists:
      return "AlreadyExists";
    case ErrorCode::kNameTooLong:
      return "NameTooLong";
    case ErrorCode::kStale:
      return "Stale";
    case ErrorCode::kNoSpace:
      return "NoSpace";
    case ErrorCode::kNotSupported:
      return "NotSupported";
    case ErrorCode::kNotPermitted:
      return "NotPermitted";
    case ErrorCode::kNoData:
      return "NoData";
  }
  return "Unknown";
}

bool IsTransient(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNetwork:
    case ErrorCode::kHostNotFound:  // a resolver may answer next time
    case ErrorCode::kTimeout:
    case ErrorCode::kTruncatedBody:
    case ErrorCode::kSlowDown:
    case ErrorCode::kServiceUnavailable:
    case ErrorCode::kInternalError:
    case ErrorCode::kRequestTimeout:
    case ErrorCode::kRequestTimeTooSkewed:
    // A reply that cannot be decoded (garbage, HTML or an empty body under a 200) says nothing
    // of what the server did: worth another attempt, like a reset.
    case ErrorCode::kInvalidResponse:
      return true;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kTls:
    case ErrorCode::kCredentials:
    case ErrorCode::kCancelled:
    case ErrorCode::kChecksumMismatch:  // retried by who holds the bytes: a fresh GET
    case ErrorCode::kNotFound:
    case ErrorCode::kNoSuchBucket:
    case ErrorCode::kNoSuchUpload:
    case ErrorCode::kAccessDenied:
    case ErrorCode::kInvalidAccessKeyId:
    case ErrorCode::kSignatureDoesNotMatch:
    case ErrorCode::kExpiredToken:
    case ErrorCode::kPreconditionFailed:
    case ErrorCode::kNotModified:
    case ErrorCode::kConflict:
    case ErrorCode::kInvalidRange:
    case ErrorCode::kInvalidPart:
    case ErrorCode::kEntityTooLarge:
    case ErrorCode::kWrongRegion:
    case ErrorCode::kBadRequest:
    case ErrorCode::kNotImplemented:
    case ErrorCode::kUnknown:
    case ErrorCode::kReadOnly:
    case ErrorCode::kIsDirectory:
    case ErrorCode::kNotDirectory:
    case ErrorCode::kNotEmpty:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kNameTooLong:
    case ErrorCode::kStale:
    case ErrorCode::kNoSpace:
    case ErrorCode::kNotSupported:
    case ErrorCode::kNotPermitted:
    case ErrorCode::kNoData:
      return false;
  }
  return false;
}

std::string Error::ToString() const {
  std::string out = s3_code.empty() ? std::string(ErrorCodeName(code)) : s3_code;
  if (http_status != 0) {
    out += " (HTTP " + std::to_string(http_status) + ")";
  }
  if (!message.empty()) {
    out += ": " + message;
  }
  if (!request_id.empty()) {
    out += " [request id " + request_id + "]";
  }
  return out;
}

Error MakeError(ErrorCode code, std::string message) {
  Error error;
  error.code = code;
  error.message = std::move(message);
  return error;
}

}  // namespace s3mount
