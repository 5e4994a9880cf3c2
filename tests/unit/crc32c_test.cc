// Crc32c: the standard check value, chaining across buffers, combining, and the header form.
#include "s3mount/aws/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace s3mount {
namespace {

TEST(Crc32cTest, StandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u) << "the CRC-32C check value of \"123456789\"";
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32cTest, KnownVectorsFromRfc3720) {
  // RFC 3720 B.4: 32 bytes of zeros, of 0xFF, and 0..31.
  std::string zeros(32, '\0');
  std::string ones(32, '\xff');
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
}

TEST(Crc32cTest, ExtendChainsAcrossBuffersAtEverySplit) {
  const std::string data = "The quick brown fox jumps over the lazy dog, 0123456789 times.";
  const uint32_t whole = Crc32c(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    const uint32_t chained = Crc32cExtend(Crc32c(data.substr(0, split)), data.substr(split));
    EXPECT_EQ(chained, whole) << "split at " << split;
  }
  Crc32cHasher hasher;
  for (char c : data) hasher.Update(std::string_view(&c, 1));
  EXPECT_EQ(hasher.value(), whole);
  EXPECT_EQ(hasher.length(), data.size());
}

TEST(Crc32cTest, CombineEqualsTheCrcOfTheConcatenation) {
  std::string a(1 << 20, 'a');
  for (size_t i = 0; i < a.size(); i += 7) a[i] = static_cast<char>(i);
  const std::string b = "tail bytes of a second part";
  EXPECT_EQ(Crc32cCombine(Crc32c(a), Crc32c(b), b.size()), Crc32c(a + b));
  EXPECT_EQ(Crc32cCombine(Crc32c(b), Crc32c(a), a.size()), Crc32c(b + a));
  EXPECT_EQ(Crc32cCombine(Crc32c(a), Crc32c(""), 0), Crc32c(a));
  EXPECT_EQ(Crc32cCombine(Crc32c(""), Crc32c(b), b.size()), Crc32c(b));
}

TEST(Crc32cTest, Base64IsBigEndianAndRoundTrips) {
  EXPECT_EQ(Crc32cBase64(0xE3069283u), "4waSgw==");
  EXPECT_EQ(ParseCrc32cBase64("4waSgw=="), 0xE3069283u);
  EXPECT_EQ(ParseCrc32cBase64(Crc32cBase64(0)), 0u);
  EXPECT_FALSE(ParseCrc32cBase64("4waSgw==-3").has_value()) << "a composite checksum";
  EXPECT_FALSE(ParseCrc32cBase64("AAAAAAA=").has_value()) << "5 bytes";
  EXPECT_FALSE(ParseCrc32cBase64("").has_value());
}

}  // namespace
}  // namespace s3mount
