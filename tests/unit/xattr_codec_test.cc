// Tests for the xattr side of the metadata codec (s3mount/fs/metadata_codec.h): the s3fs
// `xattr` header (byte-identical to what s3fs 1.90 wrote; see metadata_codec_test.cc), its encoding
// (DecodeXattrs, EncodeXattrs, StoreXattrs) and the user.* view of an object's xattrs and other
// headers (XattrView).
#include <gtest/gtest.h>

#include <string>

#include "s3mount/fs/metadata_codec.h"

namespace s3mount {
namespace {

// An object "f" with the given user metadata.
ObjectInfo WithMetadata(UserMetadata metadata) {
  ObjectInfo object;
  object.key = "f";
  object.user_metadata = std::move(metadata);
  return object;
}

// --- The s3fs 1.90 samples ----------------------------------------------------------------

// setxattr user.color=red, user.bin=00 01 02 ff, "security.odd name"='a b&c"{}%', and
// user.json"q='{"k":1}' (a name s3fs cannot read back: it skips that entry).
constexpr std::string_view kS3fsXattrHeader =
    "%7B%22security.odd%20name%22%3A%22YSBiJmMie30l%22%2C%22user.bin%22%3A%22AAEC/"
    "w%3D%3D%22%2C%22user.color%22%3A%22cmVk%22%2C%22user.json%22q%22%3A%22eyJrIjoxfQ%3D%3D%"
    "22%7D";

TEST(MetadataCodecS3fs190Test, DecodesS3fsXattrsLikeS3fs) {
  auto xattrs = DecodeXattrs({{"xattr", std::string(kS3fsXattrHeader)}});
  ASSERT_TRUE(xattrs.ok()) << xattrs.error().ToString();
  const Xattrs expected = {{"security.odd name", "a b&c\"{}%"},
                           {"user.bin", std::string("\x00\x01\x02\xff", 4)},
                           {"user.color", "red"}};
  EXPECT_EQ(*xattrs, expected);  // the broken user.json"q entry is skipped, as s3fs does
}

TEST(MetadataCodecS3fs190Test, EncodesByteIdenticalToS3fs) {
  const Xattrs xattrs = {{"security.odd name", "a b&c\"{}%"},
                         {"user.bin", std::string("\x00\x01\x02\xff", 4)},
                         {"user.color", "red"}};
  EXPECT_EQ(EncodeXattrs(xattrs),
            "%7B%22security.odd%20name%22%3A%22YSBiJmMie30l%22%2C%22user.bin%22%3A%22AAEC/"
            "w%3D%3D%22%2C%22user.color%22%3A%22cmVk%22%7D");
  EXPECT_EQ(EncodeXattrs({{"user.dirattr", "v"}}), "%7B%22user.dirattr%22%3A%22dg%3D%3D%22%7D");

  // All 256 byte values under a name with s3fs's unescaped characters ~ - _.
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  const std::string s3fs_header =
      "%7B%22user.tilde~-_%22%3A%22AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss"
      "LS4vMDEyMzQ1Njc4OTo7PD0%2BP0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWpr"
      "bG1ub3BxcnN0dXZ3eHl6e3x9fn%2BAgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmq"
      "q6ytrq%2BwsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5%2B"
      "jp6uvs7e7v8PHy8/T19vf4%2Bfr7/P3%2B/w%3D%3D%22%7D";
  EXPECT_EQ(EncodeXattrs({{"user.tilde~-_", all_bytes}}), s3fs_header);
  auto decoded = DecodeXattrs({{"xattr", s3fs_header}});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->at("user.tilde~-_"), all_bytes);
}

// --- Encoding and decoding ----------------------------------------------------------------

TEST(XattrCodecTest, AbsentOrEmptyHeaderMeansNone) {
  auto xattrs = DecodeXattrs({});
  ASSERT_TRUE(xattrs.ok());
  EXPECT_TRUE(xattrs->empty());
  xattrs = DecodeXattrs({{"xattr", ""}});
  ASSERT_TRUE(xattrs.ok());
  EXPECT_TRUE(xattrs->empty());
  xattrs = DecodeXattrs({{"xattr", "%7B%7D"}});
  ASSERT_TRUE(xattrs.ok());
  EXPECT_TRUE(xattrs->empty());
  EXPECT_EQ(EncodeXattrs({}), "");
}

TEST(XattrCodecTest, RoundTripsAwkwardNamesAndValues) {
  const Xattrs xattrs = {
      {"user.quote\"name", "v1"},     {"user.back\\slash", "v2"}, {"user.colon:comma,", "v3"},
      {"user.ctl\x01\n", "v4"},       {"user.empty", ""},         {"user.utf8.\xc3\xbc", "\xff"},
      {"user.braces{}", "{\"a\":1}"}, {"user.plus+", "+/="}};
  const std::string header = EncodeXattrs(xattrs);
  EXPECT_EQ(header.find_first_of("\"{}:,+= "), std::string::npos) << header;
  auto decoded = DecodeXattrs({{"xattr", header}});
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  EXPECT_EQ(*decoded, xattrs);
}

TEST(XattrCodecTest, StrictJsonFormsAreAccepted) {
  // Spaces, escapes, unpadded base64, lower-case %-hex: what other writers might produce.
  const std::string json =
      R"( { "user.a" : "cmVk" , "user.\u00fc\ud83d\ude00" : "dg" , "user.\/x" : "" } )";
  auto decoded = DecodeXattrs({{"xattr", json}});  // not even URL-encoded
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  const Xattrs expected = {
      {"user.a", "red"}, {"user.\xc3\xbc\xf0\x9f\x98\x80", "v"}, {"user./x", ""}};
  EXPECT_EQ(*decoded, expected);
  decoded = DecodeXattrs({{"xattr", "%7b%22user.a%22%3a%22cmVk%22%7d"}});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->at("user.a"), "red");
}

TEST(XattrCodecTest, BadEntriesAreSkipped) {
  // Not base64; a value that is not a string; an empty name.
  auto decoded = DecodeXattrs({{"xattr", R"({"user.ok":"cmVk","user.bad":"!!!!","":"cmVk"})"}});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, (Xattrs{{"user.ok", "red"}}));
  decoded = DecodeXattrs({{"xattr", R"({"user.ok":"cmVk","user.num":5,"x"})"}});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, (Xattrs{{"user.ok", "red"}}));
}

TEST(XattrCodecTest, UndecodableHeaderIsAnError) {
  for (const char* bad : {"%7", "%ZZ%7B%7D", "not json", "}{", "[1,2]"}) {
    auto decoded = DecodeXattrs({{"xattr", bad}});
    EXPECT_FALSE(decoded.ok()) << "accepted '" << bad << "'";
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidResponse) << bad;
    }
  }
}

TEST(XattrCodecTest, DeepOrHugeInputDoesNotCrash) {
  const std::string deep(100000, '[');
  EXPECT_FALSE(DecodeXattrs({{"xattr", deep}}).ok());
  std::string many = "{";
  for (int i = 0; i < 5000; ++i) many += "\"user." + std::to_string(i) + "\":\"dg==\",";
  many.back() = '}';
  auto decoded = DecodeXattrs({{"xattr", many}});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->size(), 5000u);
}

TEST(XattrCodecTest, StoreXattrsSetsOrErasesTheHeader) {
  UserMetadata metadata = {{"mode", "33188"}};
  StoreXattrs({{"user.a", "b"}}, metadata);
  EXPECT_EQ(metadata.at("xattr"), "%7B%22user.a%22%3A%22Yg%3D%3D%22%7D");
  EXPECT_EQ(metadata.at("mode"), "33188");
  StoreXattrs({}, metadata);
  EXPECT_FALSE(metadata.contains("xattr"));
  EXPECT_EQ(metadata.size(), 1u);
}

TEST(XattrViewTest, ExposesS3fsXattrsAndOtherHeadersAsUserNames) {
  const ObjectInfo object = WithMetadata({{"mode", "33188"},
                                          {"uid", "0"},
                                          {"gid", "0"},
                                          {"mtime", "1700000000"},
                                          {"ctime", "1700000000"},
                                          {"atime", "1700000000"},
                                          {"xattr", std::string(kS3fsXattrHeader)},
                                          {"project", "apollo"},
                                          {"md5chksum", "abc"}});
  const std::vector<std::string> expected = {"security.odd name", "user.bin", "user.color",
                                             "user.md5chksum", "user.project"};
  EXPECT_EQ(XattrNamesFor(object), expected);
  auto value = GetXattr(object, "user.project");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "apollo");
  value = GetXattr(object, "user.color");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "red");
  for (const char* hidden :
       {"user.mode", "user.uid", "user.gid", "user.mtime", "user.ctime", "user.atime", "user.xattr",
        "user.", "project", "user.missing", "trusted.project", "user.json\"q"}) {
    value = GetXattr(object, hidden);
    ASSERT_FALSE(value.ok()) << hidden;
    EXPECT_EQ(value.error().code, ErrorCode::kNoData) << hidden;
  }
}

TEST(XattrViewTest, S3fsXattrWinsOverHeaderOfTheSameName) {
  const ObjectInfo object =
      WithMetadata({{"xattr", EncodeXattrs({{"user.color", "red"}})}, {"color", "blue"}});
  EXPECT_EQ(XattrNamesFor(object), (std::vector<std::string>{"user.color"}));
  auto value = GetXattr(object, "user.color");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "red");
}

TEST(XattrViewTest, CorruptXattrHeaderHidesOnlyS3fsXattrs) {
  const ObjectInfo object = WithMetadata({{"xattr", "%ZZ"}, {"note", "hi"}});
  EXPECT_EQ(XattrNamesFor(object), (std::vector<std::string>{"user.note"}));
  EXPECT_TRUE(GetXattr(object, "user.note").ok());
  EXPECT_EQ(GetXattr(object, "user.color").error().code, ErrorCode::kNoData);
}

}  // namespace
}  // namespace s3mount
