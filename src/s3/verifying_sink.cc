// VerifyingSink: the CRC32C or MD5 of a GET's body, checked against the object's own.
#include "s3mount/s3/verifying_sink.h"

#include <algorithm>
#include <cctype>

namespace s3mount {
namespace {

// The ETag without quotes, when it is a plain MD5 (single-part upload, not SSE-KMS/SSE-C).
std::optional<std::string> Md5Etag(const ObjectInfo& object) {
  if (object.server_side_encryption.starts_with("aws:kms") ||
      object.server_side_encryption == "SSE-C") {
    return std::nullopt;
  }
  std::string etag = object.etag;
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  if (etag.size() != 32 || !std::all_of(etag.begin(), etag.end(),
                                        [](unsigned char c) { return std::isxdigit(c) != 0; })) {
    return std::nullopt;
  }
  std::transform(etag.begin(), etag.end(), etag.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return etag;
}

bool WholeObject(const GetObjectResponse& response) {
  return response.body_offset == 0 && response.body_length == response.object.size;
}

}  // namespace

VerifyingSink::Method VerifyingSink::MethodFor(const GetObjectResponse& response) {
  if (!WholeObject(response)) return Method::kNone;
  if (ParseCrc32cBase64(response.object.checksum_crc32c).has_value()) return Method::kCrc32c;
  if (Md5Etag(response.object).has_value()) return Method::kMd5Etag;
  return Method::kNone;
}

Status VerifyingSink::Begin(const GetObjectResponse& response) {
  if (!response_.has_value()) {
    // Later Begins (a resumed transfer) continue the same body.
    response_ = response;
    method_ = MethodFor(response);
    if (method_ == Method::kMd5Etag) md5_.emplace();
  }
  return inner_.Begin(response);
}

Status VerifyingSink::Append(std::string_view bytes) {
  switch (method_) {
    case Method::kCrc32c:
      crc_.Update(bytes);
      break;
    case Method::kMd5Etag:
      md5_->Update(bytes);
      break;
    case Method::kNone:
      break;
  }
  received_ += bytes.size();
  return inner_.Append(bytes);
}

Status VerifyingSink::Verify() {
  if (!response_.has_value() || method_ == Method::kNone) return OkStatus();
  const ObjectInfo& object = response_->object;
  std::string expected;
  std::string actual;
  if (received_ != object.size) {
    expected = std::to_string(object.size) + " bytes";
    actual = std::to_string(received_) + " bytes";
  } else if (method_ == Method::kCrc32c) {
    expected = "CRC32C " + object.checksum_crc32c;
    actual = "CRC32C " + Crc32cBase64(crc_.value());
  } else {
    expected = "MD5 " + *Md5Etag(object);
    if (!md5_hex_.has_value()) md5_hex_ = md5_->FinishHex();
    actual = "MD5 " + *md5_hex_;
  }
  if (expected == actual) return OkStatus();
  return MakeError(ErrorCode::kChecksumMismatch, "the body of '" + object.key + "' has " + actual +
                                                     ", the object has " + expected);
}

}  // namespace s3mount
