// The S3 XML bodies the client reads and writes: parsers from reply bodies to the structs of
// s3mount/s3/object_store.h and builders of request bodies. No HTTP here; the caller hands in
// the body of a 2xx reply (error statuses go to ErrorFromResponse in s3/s3_error.h).
//
// Every parser:
//   - matches elements by local name, so it reads S3's namespaced replies and moto's alike;
//   - returns the mapped Error when the body is an <Error> document: S3 may answer HTTP 200
//     and then report failure in the body (CompleteMultipartUpload, CopyObject,
//     UploadPartCopy; an InternalError there is retryable, kInternalError). Such an Error
//     carries http_status 200 and the body's RequestId; the caller may fill in request_id from
//     the header when it is empty;
//   - returns an Error of kind kInvalidResponse for anything else it cannot make sense of
//     (not XML, unexpected root element, missing or malformed required fields, a truncated
//     listing without a way to continue), never crashes on hostile input.
// Values we interpret (numbers, booleans, dates) are trimmed of ASCII whitespace; opaque
// values (keys, ETags, upload ids, continuation tokens) are returned exactly as sent.
//
// Thread-safety: pure functions, safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "s3mount/common/result.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

// Decodes a value of a listing sent with `encoding-type=url`: `%XX` becomes the byte 0xXX and
// `+` becomes a space. A `%` not followed by two hex digits is an Error (kInvalidResponse).
//
// Why `+` means space (evidence): moto 5.2.1 (on this machine), asked for
// `list-type=2&encoding-type=url` over keys `a b`, `c+d`, `e+f`, `dir/été x`, `t~ilde`,
// `q?h#`, `amp&lt<` and `ctl\x01x`, answered `a%20b`, `c%2Bd`, `e%2Bf`,
// `dir/%C3%A9t%C3%A9%20x`, `t~ilde`, `q%3Fh%23`, `amp%26lt%3C`, `ctl%01x`: spaces as `%20`
// and a literal `+` always as `%2B`, `/` and `~` left alone. Real S3 uses form encoding,
// where a space may come back as `+`; AWS's own SDKs decode these values with form decoding
// (botocore's decode_list_object_v2 calls unquote_plus; the Java SDK uses URLDecoder). Since
// neither server ever sends a literal `+` for a `+` in the key, decoding `+` as a space is
// right for both. (Without encoding-type, moto silently dropped the \x01 from `ctl\x01x`,
// which is why the client always asks for url encoding.)
Result<std::string> DecodeS3UrlEncoding(std::string_view text);

// ListObjectsV2 (`<ListBucketResult>`). When the reply has `<EncodingType>url</EncodingType>`,
// Contents/Key and CommonPrefixes/Prefix are decoded with DecodeS3UrlEncoding;
// NextContinuationToken is opaque and never decoded. (StartAfter, Prefix and Delimiter echo the
// request and are not read; note moto echoes StartAfter unencoded even with encoding-type=url.)
// Per object: Key and Size are required; ETag, LastModified and StorageClass are read when
// present. IsTruncated=true without a NextContinuationToken is an Error.
Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml);

// ListParts (`<ListPartsResult>`; moto says `<ListPartsResponse>`). Each Part needs
// PartNumber (1..10000), ETag and Size. IsTruncated=true needs a positive
// NextPartNumberMarker.
Result<ListPartsPage> ParseListParts(std::string_view xml);

// ListMultipartUploads (`<ListMultipartUploadsResult>`). Each Upload needs Key and UploadId;
// Initiated is read when present. IsTruncated=true needs a NextKeyMarker.
Result<ListUploadsPage> ParseListMultipartUploads(std::string_view xml);

// CreateMultipartUpload (`<InitiateMultipartUploadResult>`): the non-empty UploadId.
Result<std::string> ParseInitiateMultipartUpload(std::string_view xml);

// CompleteMultipartUpload (`<CompleteMultipartUploadResult>`; moto says
// `<CompleteMultipartUploadResponse>`): the ETag. version_id is left empty: S3 sends it in the
// x-amz-version-id header, not the body.
Result<PutObjectResponse> ParseCompleteMultipartUpload(std::string_view xml);

// CopyObject (`<CopyObjectResult>`) and UploadPartCopy (`<CopyPartResult>`, use .etag): the
// required ETag and, when present, LastModified.
Result<CopyObjectResponse> ParseCopyObjectResult(std::string_view xml);

// DeleteObjects (`<DeleteResult>`): one failure per <Error> entry, with the Key and the entry's
// Code mapped through ErrorCodeFromS3Code (http_status 0). <Deleted> entries are skipped.
Result<DeleteObjectsResponse> ParseDeleteResult(std::string_view xml);

// The body of a DeleteObjects request for 1..kMaxDeleteBatch keys. A key that is empty or
// cannot appear in XML 1.0 (control characters, invalid UTF-8; see IsValidXmlText) is an Error
// of kind kInvalidArgument naming its position: such keys must be deleted one by one with
// DeleteObject, which carries the key in the URL.
Result<std::string> BuildDeleteObjectsXml(const std::vector<std::string>& keys, bool quiet);

// The body of a CompleteMultipartUpload request: PartNumber, ETag and (when known)
// ChecksumCRC32C of each part (size is not sent). Parts must be non-empty,
// numbered 1..kMaxPartNumber in strictly ascending order, with non-empty ETags valid in XML;
// otherwise an Error of kind kInvalidArgument.
Result<std::string> BuildCompleteMultipartUploadXml(const std::vector<CompletedPart>& parts);

}  // namespace s3mount
