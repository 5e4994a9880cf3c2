// VerifyingSink: passes a GET's body on to another sink while computing what is needed to
// check it, and says afterwards whether the bytes were the object's. What it checks, in order
// of preference:
//  - the object's full CRC32C (x-amz-checksum-crc32c without a "-N" suffix, which S3 sends
//    for a whole-object GET with checksum_mode);
//  - else the ETag, when it is a single-part MD5 (32 hex digits, no '-') and the object is
//    not SSE-KMS or SSE-C encrypted (their ETags are not the MD5 of the bytes).
// A ranged reply, a composite multipart checksum or a multipart ETag give nothing to check:
// method() is then kNone and Verify() succeeds. The inner sink receives the bytes as they
// arrive, so whoever owns it must hold them back until Verify() has passed.
//
// Thread-safety: one GET at a time, like any sink.
#pragma once

#include <optional>
#include <string>

#include "s3mount/aws/crc32c.h"
#include "s3mount/aws/crypto.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

class VerifyingSink final : public ObjectSink {
 public:
  enum class Method { kNone, kCrc32c, kMd5Etag };

  explicit VerifyingSink(ObjectSink& inner) : inner_(inner) {}

  Status Begin(const GetObjectResponse& response) override;
  Status Append(std::string_view bytes) override;

  // After the GET returned success: kChecksumMismatch (naming the key, expected and actual
  // values) when the body differs from what the object's checksum or ETag says.
  Status Verify();
  Method method() const { return method_; }

  // What a reply lets us check, from its metadata alone.
  static Method MethodFor(const GetObjectResponse& response);

 private:
  ObjectSink& inner_;
  std::optional<GetObjectResponse> response_;
  Method method_ = Method::kNone;
  Crc32cHasher crc_;
  std::optional<Md5Hasher> md5_;
  std::optional<std::string> md5_hex_;  // once finished
  uint64_t received_ = 0;
};

}  // namespace s3mount
