// Tests for AWS percent-encoding: UriEncode, UrlDecode and the canonical query string.
#include "s3mount/aws/uri_encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace s3mount {
namespace {

TEST(UriEncodeTest, KeepsUnreservedOnly) {
  const std::string unreserved =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
  EXPECT_EQ(UriEncode(unreserved, true), unreserved);
  EXPECT_EQ(UriEncode("+=&$@:*(),;'!", true), "%2B%3D%26%24%40%3A%2A%28%29%2C%3B%27%21");
  EXPECT_EQ(UriEncode(" %?#[]\"<>\\^`{|}", true), "%20%25%3F%23%5B%5D%22%3C%3E%5C%5E%60%7B%7C%7D");
  EXPECT_EQ(UriEncode("", true), "");
}

TEST(UriEncodeTest, SlashDependsOnFlag) {
  EXPECT_EQ(UriEncode("/a/b c/", false), "/a/b%20c/");
  EXPECT_EQ(UriEncode("/a/b c/", true), "%2Fa%2Fb%20c%2F");
  EXPECT_EQ(UriEncode("//./../", false), "//./../");
}

TEST(UriEncodeTest, EncodesUtf8AndControlBytesWithUppercaseHex) {
  EXPECT_EQ(UriEncode("\xc3\xbc", true), "%C3%BC");                // ü
  EXPECT_EQ(UriEncode("\xf0\x9f\x98\x80", true), "%F0%9F%98%80");  // 😀
  EXPECT_EQ(UriEncode(std::string("\0\x01\x7f\xff", 4), true), "%00%01%7F%FF");
}

TEST(UrlDecodeTest, DecodesEscapesInEitherCase) {
  auto r = UrlDecode("%2f%2F%C3%bc%20x", false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "//\xc3\xbc x");
  auto nul = UrlDecode("a%00b", false);
  ASSERT_TRUE(nul.ok());
  EXPECT_EQ(*nul, std::string("a\0b", 3));
}

TEST(UrlDecodeTest, PlusIsSpaceOnlyWhenAsked) {
  auto form = UrlDecode("a+b%2B", true);
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(*form, "a b+");
  auto path = UrlDecode("a+b%2B", false);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, "a+b+");
}

TEST(UrlDecodeTest, RejectsMalformedEscapes) {
  for (const char* bad : {"%", "%2", "abc%4", "%zz", "%g0", "%0g", "a%%20", "%-1"}) {
    auto r = UrlDecode(bad, false);
    ASSERT_FALSE(r.ok()) << "accepted: " << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(UrlDecodeTest, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (bool slash : {true, false}) {
    auto r = UrlDecode(UriEncode(all, slash), false);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, all);
  }
}

TEST(EncodeQueryStringTest, SortsByEncodedNameThenValue) {
  EXPECT_EQ(EncodeQueryString({}), "");
  EXPECT_EQ(EncodeQueryString({{"prefix", "J"}, {"max-keys", "2"}}), "max-keys=2&prefix=J");
  // Repeated names are kept and ordered by value.
  EXPECT_EQ(EncodeQueryString({{"k", "b"}, {"k", "a"}, {"k", ""}}), "k=&k=a&k=b");
  // Sorted as (name, value) pairs, not as "name=value" strings: "a" before "a-b".
  EXPECT_EQ(EncodeQueryString({{"a-b", "1"}, {"a", "2"}}), "a=2&a-b=1");
  // Sorted after encoding: "a b" -> "a%20b" sorts before "a-b" ('%' < '-').
  EXPECT_EQ(EncodeQueryString({{"a-b", ""}, {"a b", ""}}), "a%20b=&a-b=");
  // Uppercase sorts before lowercase (byte order).
  EXPECT_EQ(EncodeQueryString({{"uploads", ""}, {"X-Amz-Date", "d"}}), "X-Amz-Date=d&uploads=");
}

TEST(EncodeQueryStringTest, EncodesSlashesAndReservedCharacters) {
  EXPECT_EQ(EncodeQueryString({{"prefix", "dir one/"}, {"delimiter", "/"}}),
            "delimiter=%2F&prefix=dir%20one%2F");
  EXPECT_EQ(EncodeQueryString({{"a&b=c", "x+y=z&~"}}), "a%26b%3Dc=x%2By%3Dz%26~");
  EXPECT_EQ(EncodeQueryString({{"", ""}}), "=");
}

}  // namespace
}  // namespace s3mount
