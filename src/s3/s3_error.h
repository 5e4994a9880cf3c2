// Turning S3 error replies into our closed ErrorCode values: the S3 <Code> table, the
// status-only fallback (HEAD replies and empty bodies carry no XML), and the reading of
// `<Error><Code/><Message/><RequestId/><Region/></Error>` documents and DeleteResult entries.
//
// Thread-safety: pure functions, safe to call from any thread.
#pragma once

#include <string>
#include <string_view>

#include "aws/xml_document.h"
#include "s3mount/common/error.h"

namespace s3mount {

// Maps S3's error <Code> to an ErrorCode through the AWS table (aws/error_codes.h).
// An empty code maps by status alone (ErrorCodeFromHttpStatus). Any other code maps by the
// status class: 4xx -> kBadRequest, 500 -> kInternalError, 502/503/504 ->
// kServiceUnavailable, anything else (including 0 for DeleteResult entries and 200 for an
// error inside a 200 reply) -> kUnknown.
ErrorCode ErrorCodeFromS3Code(std::string_view s3_code, int http_status);

// Maps an HTTP status alone, for replies without an error body (HEAD, or empty):
//   301/307 kWrongRegion, 304 kNotModified, 400 kBadRequest, 403 kAccessDenied,
//   404 kNotFound, 409 kConflict, 412 kPreconditionFailed, 416 kInvalidRange,
//   429 kSlowDown, other 4xx kBadRequest, 500 kInternalError, 501 kNotImplemented,
//   502/504 kServiceUnavailable, 503 kSlowDown, other 5xx and anything else kUnknown.
// (301/307 and 429 go beyond S3's own replies: S3 answers a HEAD in the wrong region with a
// bodiless 301, and S3-compatible servers throttle with 429.)
ErrorCode ErrorCodeFromHttpStatus(int http_status);

// Builds an Error from an S3 <Error> element: the root of an error body, or one entry of a
// DeleteResult. s3_code and message come from <Code> and <Message>; request_id from
// <RequestId> when present and non-empty, else `request_id`; http_status is `http_status`
// (pass 0 for DeleteResult entries, which have no status of their own).
Error ErrorFromErrorElement(XmlNode error, int http_status, std::string_view request_id);

// The Error for a failed S3 reply. `request_id` is the x-amz-request-id header (may be empty);
// the body's <RequestId> wins when present. When `is_head` is true or the body is empty, or
// when the body is not an S3 <Error> document (HTML from a proxy, truncated XML...), the
// code comes from the status alone; in the last case the message says so and quotes at most
// 200 bytes of the body, with control and non-ASCII bytes replaced. Also used for the `<Error>`
// documents S3 may send with HTTP 200 (CompleteMultipartUpload, CopyObject, UploadPartCopy).
Error ErrorFromResponse(int http_status, std::string_view body, std::string_view request_id,
                        bool is_head);

// The region an error body says the bucket lives in, for following a redirect; empty when it
// does not say. Taken from <Region> (AuthorizationHeaderMalformed, some PermanentRedirects),
// else derived from an AWS <Endpoint> (`bucket.s3.eu-west-1.amazonaws.com`,
// `bucket.s3-eu-west-1.amazonaws.com`; `bucket.s3.amazonaws.com` means us-east-1). Prefer the
// x-amz-bucket-region header when the reply has one (a HEAD's 301 has no body).
std::string RegionFromErrorBody(std::string_view body);

}  // namespace s3mount
