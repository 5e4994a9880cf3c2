// CRC32C (Castagnoli), as S3's x-amz-checksum-crc32c carries it, computed with ISA-L
// (crc32_iscsi: hardware CRC instructions where the CPU has them). Used for upload checksums,
// for verifying whole-object reads and for the checksums of cached blocks.
//
//   uint32_t crc = Crc32c("1234");
//   crc = Crc32cExtend(crc, "56789");         // == Crc32c("123456789") == 0xE3069283
//   Crc32cCombine(Crc32c(a), Crc32c(b), b.size()) == Crc32c(a + b)
//   Crc32cBase64(crc)                          // "4waSgw==": the header value
//
// Every value here is a finished CRC (initial value and final XOR applied); Crc32c("") is 0.
// Thread-safety: pure functions; a Crc32cHasher is a plain value used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3mount {

// CRC32C of `data`.
uint32_t Crc32c(std::string_view data);
// CRC32C of (the bytes whose CRC32C is `crc`) followed by `data`.
uint32_t Crc32cExtend(uint32_t crc, std::string_view data);
// CRC32C of A followed by B, from crc_a = Crc32c(A), crc_b = Crc32c(B) and B's length.
uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);
// base64 of the CRC's 4 bytes, big-endian: the x-amz-checksum-crc32c header value.
std::string Crc32cBase64(uint32_t crc);
// The inverse of Crc32cBase64; nullopt when `text` is not the base64 of exactly 4 bytes
// (a composite multipart checksum "xxx-N" included: strip the suffix first).
std::optional<uint32_t> ParseCrc32cBase64(std::string_view text);

// Running CRC32C over bytes that arrive in pieces.
class Crc32cHasher {
 public:
  void Update(std::string_view data) {
    crc_ = Crc32cExtend(crc_, data);
    length_ += data.size();
  }
  uint32_t value() const { return crc_; }
  uint64_t length() const { return length_; }

 private:
  uint32_t crc_ = 0;
  uint64_t length_ = 0;
};

}  // namespace s3mount
