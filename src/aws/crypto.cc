// OpenSSL facade: SHA-256, HMAC-SHA256, MD5, hex and base64 (see crypto.h).
#include "s3mount/aws/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace s3mount {
namespace {

// OpenSSL failing to hash is an environment failure we cannot work around (see crypto.h).
void CheckOpenSsl(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "s3mount: fatal OpenSSL failure in %s\n", what);
    std::abort();
  }
}

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Value of a base64 character, or -1.
int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string BytesToString(std::span<const unsigned char> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest digest{};
  unsigned int length = 0;
  CheckOpenSsl(
      EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) == 1 &&
          length == digest.size(),
      "EVP_Digest(sha256)");
  return digest;
}

std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

Sha256Digest HmacSha256(std::string_view key, std::string_view data) {
  Sha256Digest mac{};
  unsigned int length = 0;
  // HMAC() is the one-shot API that OpenSSL 3 keeps (HMAC_CTX is deprecated). A null key
  // pointer means "use the static buffer" in old versions, so always pass a real one.
  static constexpr unsigned char kEmpty[1] = {0};
  const void* key_data = key.empty() ? kEmpty : static_cast<const void*>(key.data());
  CheckOpenSsl(HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()),
                    reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
                    &length) != nullptr &&
                   length == mac.size(),
               "HMAC(sha256)");
  return mac;
}

std::string HexEncode(std::span<const unsigned char> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t n = (static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16) |
                       (static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8) |
                       static_cast<uint32_t>(static_cast<unsigned char>(data[i + 2]));
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(kBase64Alphabet[(n >> 6) & 63]);
    out.push_back(kBase64Alphabet[n & 63]);
  }
  const size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (rest == 2) n |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view data) {
  if (data.size() % 4 != 0) {
    return MakeError(ErrorCode::kInvalidArgument, "base64: length is not a multiple of 4");
  }
  std::string out;
  out.reserve(data.size() / 4 * 3);
  for (size_t i = 0; i < data.size(); i += 4) {
    const bool last = i + 4 == data.size();
    const size_t padding = !last ? 0 : (data[i + 3] != '=' ? 0 : (data[i + 2] == '=' ? 2 : 1));
    uint32_t n = 0;
    for (size_t j = 0; j < 4; ++j) {
      const int v = j < 4 - padding ? Base64Value(data[i + j]) : 0;
      if (v < 0) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "base64: invalid character at offset " + std::to_string(i + j));
      }
      n = (n << 6) | static_cast<uint32_t>(v);
    }
    // The bits a padded group does not use must be zero, or two inputs decode the same.
    if ((padding == 2 && (n & 0xffff) != 0) || (padding == 1 && (n & 0xff) != 0)) {
      return MakeError(ErrorCode::kInvalidArgument, "base64: non-zero bits before padding");
    }
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    if (padding < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (padding < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return out;
}

std::string Md5Base64(std::string_view data) {
  std::array<unsigned char, 16> digest{};
  unsigned int length = 0;
  CheckOpenSsl(
      EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_md5(), nullptr) == 1 &&
          length == digest.size(),
      "EVP_Digest(md5)");
  return Base64Encode(BytesToString(digest));
}

void Sha256Hasher::CtxDeleter::operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  CheckOpenSsl(ctx_ != nullptr, "EVP_MD_CTX_new");
  CheckOpenSsl(EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1, "EVP_DigestInit_ex");
}

void Sha256Hasher::Update(std::string_view data) {
  CheckOpenSsl(ctx_ != nullptr, "Sha256Hasher::Update on a moved-from hasher");
  CheckOpenSsl(EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) == 1, "EVP_DigestUpdate");
}

Sha256Digest Sha256Hasher::Finish() {
  CheckOpenSsl(ctx_ != nullptr, "Sha256Hasher::Finish on a moved-from hasher");
  Sha256Digest digest{};
  unsigned int length = 0;
  CheckOpenSsl(
      EVP_DigestFinal_ex(ctx_.get(), digest.data(), &length) == 1 && length == digest.size(),
      "EVP_DigestFinal_ex");
  CheckOpenSsl(EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1, "EVP_DigestInit_ex");
  return digest;
}

std::string Sha256Hasher::FinishHex() { return HexEncode(Finish()); }

void Md5Hasher::CtxDeleter::operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }

Md5Hasher::Md5Hasher() : ctx_(EVP_MD_CTX_new()) {
  CheckOpenSsl(ctx_ != nullptr, "EVP_MD_CTX_new");
  CheckOpenSsl(EVP_DigestInit_ex(ctx_.get(), EVP_md5(), nullptr) == 1, "EVP_DigestInit_ex");
}

void Md5Hasher::Update(std::string_view data) {
  CheckOpenSsl(EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) == 1, "EVP_DigestUpdate");
}

std::string Md5Hasher::FinishHex() {
  std::array<unsigned char, 16> digest{};
  unsigned int length = 0;
  CheckOpenSsl(
      EVP_DigestFinal_ex(ctx_.get(), digest.data(), &length) == 1 && length == digest.size(),
      "EVP_DigestFinal_ex");
  return HexEncode(digest);
}

}  // namespace s3mount
