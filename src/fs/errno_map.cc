// ErrorCode -> errno (see errno_map.h and docs/SEMANTICS.md, "errno mapping").
#include "s3mount/fs/errno_map.h"

#include <cerrno>

namespace s3mount {

int ErrnoOfCode(ErrorCode code) {
  switch (code) {
    // Missing things.
    case ErrorCode::kNotFound:
    case ErrorCode::kNoSuchBucket:
      return ENOENT;

    // Refused by S3 or no usable identity: "Permission denied". EACCES, not EPERM: EPERM
    // means "needs privilege" (chown by a non-owner, for instance) and tools tell users to
    // become root; every one of these is a failed access check on a request.
    case ErrorCode::kAccessDenied:
    case ErrorCode::kCredentials:
    case ErrorCode::kInvalidAccessKeyId:
    case ErrorCode::kSignatureDoesNotMatch:
    case ErrorCode::kExpiredToken:
    case ErrorCode::kRequestTimeTooSkewed:  // a 403; the log says to fix the clock
      return EACCES;

    // The object changed under an open handle (If-Match failed).
    case ErrorCode::kPreconditionFailed:
      return ESTALE;

    case ErrorCode::kInvalidArgument:
    case ErrorCode::kBadRequest:  // a 4xx S3 code we do not model: the request was bad
      return EINVAL;

    case ErrorCode::kEntityTooLarge:
      return EFBIG;
    case ErrorCode::kCancelled:
      return EINTR;
    case ErrorCode::kNotImplemented:
      return ENOTSUP;
    case ErrorCode::kConflict:  // 409: a conflicting operation on the same key is running
      return EBUSY;

    // Everything that is "the storage failed" after the retry layer gave up, or that we never
    // expect to surface: EIO, which every tool reports and none retries in a hot loop.
    case ErrorCode::kNetwork:
    case ErrorCode::kHostNotFound:
    case ErrorCode::kTls:
    case ErrorCode::kTimeout:
    case ErrorCode::kTruncatedBody:
    case ErrorCode::kInvalidResponse:
    case ErrorCode::kChecksumMismatch:  // wrong bytes are never served
    case ErrorCode::kNoSuchUpload:
    case ErrorCode::kNotModified:
    case ErrorCode::kInvalidRange:
    case ErrorCode::kInvalidPart:
    case ErrorCode::kSlowDown:
    case ErrorCode::kServiceUnavailable:
    case ErrorCode::kInternalError:
    case ErrorCode::kRequestTimeout:
    case ErrorCode::kWrongRegion:
    case ErrorCode::kUnknown:
      return EIO;
    // Filesystem semantics.
    case ErrorCode::kReadOnly:
      return EROFS;
    case ErrorCode::kIsDirectory:
      return EISDIR;
    case ErrorCode::kNotDirectory:
      return ENOTDIR;
    case ErrorCode::kNotEmpty:
      return ENOTEMPTY;
    case ErrorCode::kAlreadyExists:
      return EEXIST;
    case ErrorCode::kNameTooLong:
      return ENAMETOOLONG;
    case ErrorCode::kStale:
      return ESTALE;
    case ErrorCode::kNoSpace:
      return ENOSPC;
    case ErrorCode::kNotSupported:
      return ENOTSUP;
    case ErrorCode::kNotPermitted:
      return EPERM;
    case ErrorCode::kNoData:
      return ENODATA;
  }
  // Only reachable with a value outside the enum (memory corruption or a bad cast).
  return EIO;
}

int ErrnoOf(const Error& error) { return ErrnoOfCode(error.code); }

}  // namespace s3mount
