// Tests for the OpenSSL facade: SHA-256, HMAC-SHA256 (RFC 4231), MD5 and base64 (RFC 4648)
// against published vectors, and the incremental hasher against the one-shot hash.
#include "s3mount/aws/crypto.h"

#include <gtest/gtest.h>

#include <string>

namespace s3mount {
namespace {

std::string AllBytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

TEST(CryptoTest, Sha256KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const Sha256Digest raw = Sha256("abc");
  EXPECT_EQ(raw[0], 0xba);
  EXPECT_EQ(raw[31], 0xad);
  EXPECT_EQ(HexEncode(raw), Sha256Hex("abc"));
}

TEST(CryptoTest, Sha256HandlesEmbeddedNul) {
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(Sha256Hex(with_nul), Sha256Hex("a"));
  EXPECT_EQ(Sha256Hex(with_nul), Sha256Hex(std::string("a\0b", 3)));
}

TEST(CryptoTest, HmacSha256Rfc4231) {
  // Test case 1.
  EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the block.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block is hashed first.
  EXPECT_EQ(HexEncode(HmacSha256(std::string(131, '\xaa'),
                                 "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(CryptoTest, HmacSha256EmptyKeyAndData) {
  // Python: hmac.new(b'', b'', sha256).hexdigest()
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(CryptoTest, HexEncode) {
  const unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  EXPECT_EQ(HexEncode(bytes), "00017f80abff");
  EXPECT_EQ(HexEncode(std::span<const unsigned char>()), "");
}

TEST(CryptoTest, Base64Rfc4648) {
  const std::pair<std::string, std::string> cases[] = {{"", ""},
                                                       {"f", "Zg=="},
                                                       {"fo", "Zm8="},
                                                       {"foo", "Zm9v"},
                                                       {"foob", "Zm9vYg=="},
                                                       {"fooba", "Zm9vYmE="},
                                                       {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(plain), encoded) << "plain: " << plain;
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded << ": " << decoded.error().ToString();
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(CryptoTest, Base64RoundTripsEveryByte) {
  const std::string bytes = AllBytes();
  for (size_t len : {size_t{1}, size_t{2}, size_t{3}, size_t{255}, size_t{256}}) {
    const std::string in = bytes.substr(256 - len);
    auto out = Base64Decode(Base64Encode(in));
    ASSERT_TRUE(out.ok()) << "length " << len;
    EXPECT_EQ(*out, in) << "length " << len;
  }
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
}

TEST(CryptoTest, Base64DecodeRejectsMalformedInput) {
  for (const char* bad : {"Zg=", "Zg", "Z", "Zm9v!A==", "Zg==Zg==", "====", "Z===", "Zm 9v",
                          "Zh==", "Zm9=", "Zm9v\n"}) {
    auto result = Base64Decode(bad);
    ASSERT_FALSE(result.ok()) << "accepted: \"" << bad << "\"";
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(CryptoTest, Md5Base64) {
  EXPECT_EQ(Md5Base64(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(Md5Base64("abc"), "kAFQmDzST7DWlj99KOF/cg==");
  // The DeleteObjects use: the body's Content-MD5.
  EXPECT_EQ(Md5Base64("The quick brown fox jumps over the lazy dog"), "nhB9nTcrtoJr2B01QqQZ1g==");
}

TEST(CryptoTest, Sha256HasherMatchesOneShotAcrossChunkings) {
  // FIPS 180-2: one million 'a'.
  const std::string million(1000000, 'a');
  const std::string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  ASSERT_EQ(Sha256Hex(million), expected);
  for (size_t chunk : {size_t{1000000}, size_t{4096}, size_t{999}, size_t{1}}) {
    if (chunk == 1) continue;  // covered by the small loop below; a million calls is slow
    Sha256Hasher hasher;
    for (size_t pos = 0; pos < million.size(); pos += chunk) {
      hasher.Update(std::string_view(million).substr(pos, chunk));
    }
    EXPECT_EQ(hasher.FinishHex(), expected) << "chunk " << chunk;
  }
  Sha256Hasher bytewise;
  for (char c : std::string("abc")) bytewise.Update(std::string_view(&c, 1));
  EXPECT_EQ(bytewise.FinishHex(), Sha256Hex("abc"));
}

TEST(CryptoTest, Sha256HasherResetsAfterFinish) {
  Sha256Hasher hasher;
  EXPECT_EQ(hasher.FinishHex(), Sha256Hex(""));
  hasher.Update("ab");
  hasher.Update("c");
  EXPECT_EQ(hasher.Finish(), Sha256("abc"));
  hasher.Update("abc");
  EXPECT_EQ(hasher.FinishHex(), Sha256Hex("abc"));
  Sha256Hasher moved = std::move(hasher);
  moved.Update("");
  EXPECT_EQ(moved.FinishHex(), Sha256Hex(""));
}

TEST(Md5HasherTest, MatchesTheRfc1321VectorsInPieces) {
  Md5Hasher empty;
  EXPECT_EQ(empty.FinishHex(), "d41d8cd98f00b204e9800998ecf8427e");
  Md5Hasher pieces;
  pieces.Update("message ");
  pieces.Update("digest");
  EXPECT_EQ(pieces.FinishHex(), "f96b697d7cb7938d525a2f31aaf161d0");
}

}  // namespace
}  // namespace s3mount
