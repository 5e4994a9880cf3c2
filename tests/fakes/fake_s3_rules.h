// The S3 rules FakeObjectStore keeps (fake_object_store.cc), as plain functions: S3-shaped
// errors, MD5 ETags, If-Match comparison, key and part-number limits, continuation tokens,
// and how GET and UploadPartCopy ranges resolve.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"
#include "s3mount/s3/object_store.h"

namespace s3mount::testing {

// An Error as S3 would send it (HTTP status, S3 code, a fake request id).
Error S3Error(ErrorCode code, int http_status, std::string s3_code, std::string message);
Error NoSuchUpload();

// The binary MD5 of `data`, and bytes as lower-case hex (and back; nullopt if not hex).
std::string Md5Raw(std::string_view data);
std::string Hex(std::string_view bytes);
std::optional<std::string> Unhex(std::string_view hex);
// The ETag of a PUT: the quoted hex MD5 of the body.
std::string SimpleEtag(std::string_view body);
std::string_view Unquoted(std::string_view etag);
// Whether an If-Match / If-None-Match value names this ETag.
bool EtagMatches(std::string_view condition, std::string_view etag);
// What HEAD's Last-Modified can carry.
WallTime TruncateToSeconds(WallTime time);

// S3's limits on keys (not empty, at most 1024 bytes) and part numbers (1 to 10000).
Status ValidateKey(const std::string& key);
Status ValidatePartNumber(int part_number);

// The smallest string greater than every string starting with `prefix`, if any.
std::optional<std::string> PrefixSuccessor(std::string prefix);
// A continuation token naming the first key the next page may hold, and back.
std::string EncodeToken(const std::string& resume_key);
Result<std::string> DecodeToken(const std::string& token);

struct Span {
  uint64_t offset = 0;
  uint64_t length = 0;
};
// Which bytes of an object of `size` bytes a GET with `range` returns.
Result<Span> ResolveGetRange(uint64_t size, const std::optional<ByteRange>& range);
// Which bytes of the source an UploadPartCopy with `range` copies.
Result<Span> ResolveCopyRange(uint64_t size, const std::optional<ByteRange>& range);

}  // namespace s3mount::testing
