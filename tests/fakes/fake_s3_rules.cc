// The S3 rules FakeObjectStore keeps, as plain functions: S3-shaped errors, MD5 ETags and
// If-Match comparison, key and part-number limits, continuation tokens, and how GET and
// UploadPartCopy ranges resolve (see fake_object_store.cc for the choices made).
#include "tests/fakes/fake_s3_rules.h"

#include <openssl/evp.h>

#include <array>
#include <utility>

namespace s3mount::testing {
namespace {

constexpr size_t kMaxKeyLength = 1024;
constexpr char kTokenVersion = '1';

}  // namespace

Error S3Error(ErrorCode code, int http_status, std::string s3_code, std::string message) {
  Error error = MakeError(code, std::move(message));
  error.http_status = http_status;
  error.s3_code = std::move(s3_code);
  error.request_id = "FAKEREQUEST";
  return error;
}

std::string Md5Raw(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // One-shot digest: no EVP context handle to own. MD5 cannot fail on valid input.
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_md5(), nullptr) != 1) {
    return std::string(16, '\0');
  }
  return {reinterpret_cast<const char*>(digest.data()), length};
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xF]);
  }
  return out;
}

std::optional<std::string> Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int high = digit(hex[i]);
    const int low = digit(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>((high << 4) | low));
  }
  return out;
}

std::string SimpleEtag(std::string_view body) { return "\"" + Hex(Md5Raw(body)) + "\""; }

std::string_view Unquoted(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return etag.substr(1, etag.size() - 2);
  }
  return etag;
}

// Whether an If-Match / If-None-Match value names this ETag.
bool EtagMatches(std::string_view condition, std::string_view etag) {
  return condition == "*" || Unquoted(condition) == Unquoted(etag);
}

WallTime TruncateToSeconds(WallTime time) {
  return std::chrono::time_point_cast<std::chrono::seconds>(time);
}

Status ValidateKey(const std::string& key) {
  if (key.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty object key");
  if (key.size() > kMaxKeyLength) {
    return S3Error(ErrorCode::kBadRequest, 400, "KeyTooLongError", "Your key is too long");
  }
  return OkStatus();
}

Status ValidatePartNumber(int part_number) {
  if (part_number < 1 || part_number > kMaxPartNumber) {
    return S3Error(ErrorCode::kInvalidArgument, 400, "InvalidArgument",
                   "Part number must be an integer between 1 and 10000, inclusive");
  }
  return OkStatus();
}

// The smallest string greater than every string starting with `prefix`, if any.
std::optional<std::string> PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) {
    prefix.pop_back();
  }
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

std::string EncodeToken(const std::string& resume_key) {
  return std::string(1, kTokenVersion) + Hex(resume_key);
}

Result<std::string> DecodeToken(const std::string& token) {
  std::optional<std::string> key;
  if (!token.empty() && token.front() == kTokenVersion) key = Unhex(token.substr(1));
  if (!key) {
    return S3Error(ErrorCode::kInvalidArgument, 400, "InvalidArgument",
                   "The continuation token provided is incorrect");
  }
  return *std::move(key);
}

// Which bytes of an object of `size` bytes a GET with `range` returns.
Result<Span> ResolveGetRange(uint64_t size, const std::optional<ByteRange>& range) {
  if (!range || (range->last && *range->last < range->first)) return Span{0, size};
  if (range->first >= size) {
    return S3Error(ErrorCode::kInvalidRange, 416, "InvalidRange",
                   "The requested range is not satisfiable");
  }
  const uint64_t last = std::min(range->last.value_or(size - 1), size - 1);
  return Span{range->first, last - range->first + 1};
}

// Which bytes of the source an UploadPartCopy with `range` copies.
Result<Span> ResolveCopyRange(uint64_t size, const std::optional<ByteRange>& range) {
  if (!range) return Span{0, size};
  if (range->last && *range->last < range->first) {
    return S3Error(ErrorCode::kInvalidArgument, 400, "InvalidArgument",
                   "The x-amz-copy-source-range value must be of the form bytes=first-last");
  }
  const uint64_t last = range->last.value_or(size == 0 ? 0 : size - 1);
  if (range->first >= size || last >= size) {
    return S3Error(ErrorCode::kInvalidRange, 416, "InvalidRange",
                   "The specified copy source range is not satisfiable");
  }
  return Span{range->first, last - range->first + 1};
}

Error NoSuchUpload() {
  return S3Error(ErrorCode::kNoSuchUpload, 404, "NoSuchUpload",
                 "The specified upload does not exist");
}

}  // namespace s3mount::testing
