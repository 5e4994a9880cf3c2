// A small facade over OpenSSL for what S3 needs: SHA-256 (payload hashes, SigV4), HMAC-SHA256
// (SigV4 key derivation and signatures), MD5 (Content-MD5 of DeleteObjects bodies), hex and
// base64. Every OpenSSL context is owned by RAII.
//
// These functions cannot fail on valid input; an OpenSSL internal failure (allocation failure,
// a provider without SHA-256) is not recoverable and aborts the process with a message.
//
// Thread-safety: the free functions are safe to call from any thread. A Sha256Hasher is a
// plain object: one thread at a time.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "s3mount/common/result.h"

namespace s3mount {

using Sha256Digest = std::array<unsigned char, 32>;

// SHA-256 of `data`.
Sha256Digest Sha256(std::string_view data);
// Lowercase hex SHA-256 of `data` (64 characters), as x-amz-content-sha256 wants it.
std::string Sha256Hex(std::string_view data);
// HMAC-SHA256 of `data` under `key`.
Sha256Digest HmacSha256(std::string_view key, std::string_view data);
// Lowercase hex of `bytes`.
std::string HexEncode(std::span<const unsigned char> bytes);
// Standard base64 (RFC 4648, '+' '/', '=' padding, no line breaks).
std::string Base64Encode(std::string_view data);
// Strict inverse of Base64Encode: rejects characters outside the alphabet, bad padding and
// lengths that are not a multiple of 4 (kInvalidArgument).
Result<std::string> Base64Decode(std::string_view data);
// base64(MD5(data)): the Content-MD5 header value.
std::string Md5Base64(std::string_view data);

// Incremental SHA-256 for payloads that arrive in pieces.
//   Sha256Hasher hasher;
//   hasher.Update(part1);
//   hasher.Update(part2);
//   std::string hex = hasher.FinishHex();  // the hasher is reset and can be reused
class Sha256Hasher {
 public:
  Sha256Hasher();
  Sha256Hasher(Sha256Hasher&&) noexcept = default;
  Sha256Hasher& operator=(Sha256Hasher&&) noexcept = default;
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  ~Sha256Hasher() = default;

  void Update(std::string_view data);
  // Returns the digest of everything passed to Update since construction or the last Finish,
  // and starts over.
  Sha256Digest Finish();
  std::string FinishHex();

 private:
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const;
  };
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx_;
};

// Incremental MD5, for checking a single-part object's ETag against its bytes.
class Md5Hasher {
 public:
  Md5Hasher();
  void Update(std::string_view data);
  // Lowercase hex MD5 of everything passed to Update (32 characters).
  std::string FinishHex();

 private:
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const;
  };
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx_;
};

}  // namespace s3mount
