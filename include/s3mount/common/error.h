// Error values for the whole of s3mount: a closed enum of what went wrong plus the detail a
// user needs (message, S3 error code, request id, HTTP status). Errors are values, never
// exceptions; nothing below the FUSE adapter deals in errno (see fs/errno_map for that).
//
// Thread-safety: plain value types.
#pragma once

#include <string>
#include <string_view>

namespace s3mount {

// Closed set of error kinds. Adding one forces every exhaustive switch (ErrnoOf, IsRetryable)
// to decide what it means, which is the point: no `default:` in those switches.
enum class ErrorCode {
  // Client-side.
  kInvalidArgument,  // bad input from our caller (empty key, part number out of range...)
  kCredentials,      // no usable credentials
  kCancelled,        // the caller's sink asked to stop
  // Transport.
  kNetwork,           // connect refused, connection reset
  kHostNotFound,      // DNS has no address for the host (the request never left)
  kTls,               // TLS handshake or certificate verification failed (not retried)
  kTimeout,           // connect timeout, stalled transfer, overall timeout
  kTruncatedBody,     // the body ended before Content-Length
  kInvalidResponse,   // unparseable XML, missing headers, nonsense from the server
  kChecksumMismatch,  // a body does not match its checksum (corrupted in transit or at rest)
  // S3 replies.
  kNotFound,  // NoSuchKey, 404 on HEAD
  kNoSuchBucket,
  kNoSuchUpload,
  kAccessDenied,  // AccessDenied, AllAccessDisabled, 403 on HEAD
  kInvalidAccessKeyId,
  kSignatureDoesNotMatch,
  kExpiredToken,  // ExpiredToken, InvalidToken, TokenRefreshRequired
  kRequestTimeTooSkewed,
  kPreconditionFailed,  // 412: If-Match / If-None-Match failed
  kNotModified,         // 304
  kConflict,            // 409: OperationAborted, ConditionalRequestConflict
  kInvalidRange,        // 416
  kInvalidPart,         // InvalidPart, InvalidPartOrder, EntityTooSmall
  kEntityTooLarge,
  kSlowDown,            // SlowDown, 503 throttling
  kServiceUnavailable,  // 503 without SlowDown, 502, 504
  kInternalError,       // 500 InternalError
  kRequestTimeout,      // 400 RequestTimeout
  kWrongRegion,         // PermanentRedirect / AuthorizationHeaderMalformed we could not follow
  kBadRequest,          // other 4xx with an S3 code we do not model
  kNotImplemented,      // 501
  kUnknown,             // other 5xx, or an S3 code we do not model on a non-4xx status
  // Filesystem semantics (decided by fs/, never by the S3 layer).
  kReadOnly,       // a modification on a read-only mount
  kIsDirectory,    // a file operation on a directory
  kNotDirectory,   // a directory operation on a file
  kNotEmpty,       // rmdir of a directory with entries
  kAlreadyExists,  // exclusive create of an existing name
  kNameTooLong,    // a name component over 255 bytes
  kStale,          // the object behind an open handle changed or vanished
  kNoSpace,        // a local budget (staging disk, memory) is exhausted
  kNotSupported,   // an operation S3 cannot represent (special xattr namespaces...)
  kNotPermitted,   // an operation this file system refuses outright (hard links, devices)
  kNoData,         // no such extended attribute
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kUnknown;
  std::string message;     // human-readable, never holds a secret
  std::string s3_code;     // S3's <Code>, when the server sent one
  std::string request_id;  // x-amz-request-id, when known
  int http_status = 0;     // 0 when no HTTP reply was received

  // "SignatureDoesNotMatch (HTTP 403): The request signature ... [request id ABC]"
  std::string ToString() const;
};

// Builds an Error with just a code and message.
Error MakeError(ErrorCode code, std::string message);

// Whether an operation that failed with this error may be repeated as is and succeed.
bool IsTransient(ErrorCode code);

}  // namespace s3mount
