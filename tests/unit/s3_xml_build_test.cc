// Tests for the S3 XML builders (src/s3/s3_xml.h): the DeleteObjects and
// CompleteMultipartUpload request bodies, their escaping, and what XML cannot carry.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aws/xml_document.h"
#include "s3/s3_xml.h"

namespace s3mount {
namespace {

TEST(BuildDeleteObjectsXmlTest, ShapeAndEscaping) {
  auto xml = BuildDeleteObjectsXml({"a b", "x&y<z>", "dir/\xC3\xA9t\xC3\xA9", "cr\rlf\n"}, true);
  ASSERT_TRUE(xml.ok()) << xml.error().ToString();
  EXPECT_EQ(*xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
            "<Object><Key>a b</Key></Object>"
            "<Object><Key>x&amp;y&lt;z&gt;</Key></Object>"
            "<Object><Key>dir/\xC3\xA9t\xC3\xA9</Key></Object>"
            "<Object><Key>cr&#13;lf\n</Key></Object></Delete>");
  auto loud = BuildDeleteObjectsXml({"k"}, false);
  ASSERT_TRUE(loud.ok());
  EXPECT_EQ(loud->find("Quiet"), std::string::npos);
}

TEST(BuildDeleteObjectsXmlTest, KeysSurviveAParseBack) {
  const std::vector<std::string> keys = {" lead", "trail ",          "a&b", "<x>", "cr\r",
                                         "tab\t", "\xF0\x9F\x98\x80"};
  auto xml = BuildDeleteObjectsXml(keys, false);
  ASSERT_TRUE(xml.ok());
  auto doc = XmlDocument::Parse(*xml);
  ASSERT_TRUE(doc.ok()) << doc.error().ToString();
  std::vector<std::string> parsed;
  for (const XmlNode& object : doc->Root().Children("Object")) {
    parsed.push_back(object.ChildText("Key").value_or("?"));
  }
  EXPECT_EQ(parsed, keys);
}

TEST(BuildDeleteObjectsXmlTest, RejectsWhatXmlCannotCarry) {
  const auto rejected = [](const std::vector<std::string>& keys, std::string_view part) {
    auto xml = BuildDeleteObjectsXml(keys, true);
    ASSERT_FALSE(xml.ok());
    EXPECT_EQ(xml.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(xml.error().message.find(part), std::string::npos) << xml.error().message;
  };
  rejected({}, "at least one");
  rejected({"ok", ""}, "key #1 is empty");
  rejected({"ok", "fine", "ctl\x01x"}, "key #2");
  rejected({std::string("nul\0", 4)}, "XML 1.0");
  rejected({"latin1 \xE9"}, "XML 1.0");
  rejected({"\xEF\xBF\xBE"}, "XML 1.0");
  rejected(std::vector<std::string>(kMaxDeleteBatch + 1, "k"), "at most 1000");
  EXPECT_TRUE(BuildDeleteObjectsXml(std::vector<std::string>(kMaxDeleteBatch, "k"), true).ok());
}

TEST(BuildCompleteMultipartUploadXmlTest, Shape) {
  auto xml = BuildCompleteMultipartUploadXml({{1, "\"a54357aff0632cce46d942af68356b38\"", 5242880},
                                              {2, "\"0c78aef83f66abc1fa1e8477f296d394\"", 0},
                                              {10000, "\"acbd18db4cc2f85cedef654fccc4a4d8\"", 1}});
  ASSERT_TRUE(xml.ok()) << xml.error().ToString();
  EXPECT_EQ(*xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber>"
            "<ETag>\"a54357aff0632cce46d942af68356b38\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber>"
            "<ETag>\"0c78aef83f66abc1fa1e8477f296d394\"</ETag></Part>"
            "<Part><PartNumber>10000</PartNumber>"
            "<ETag>\"acbd18db4cc2f85cedef654fccc4a4d8\"</ETag></Part>"
            "</CompleteMultipartUpload>");
  // Gaps are fine: S3 requires ascending order, not contiguity.
  EXPECT_TRUE(BuildCompleteMultipartUploadXml({{3, "e", 0}, {7, "f", 0}}).ok());
}

TEST(BuildCompleteMultipartUploadXmlTest, PartChecksumsWhenKnown) {
  auto xml = BuildCompleteMultipartUploadXml(
      {{.part_number = 1, .etag = "\"e1\"", .checksum_crc32c = "4waSgw=="},
       {.part_number = 2, .etag = "\"e2\""}});
  ASSERT_TRUE(xml.ok()) << xml.error().ToString();
  EXPECT_NE(xml->find("<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag>"
                      "<ChecksumCRC32C>4waSgw==</ChecksumCRC32C></Part>"),
            std::string::npos)
      << *xml;
  EXPECT_NE(xml->find("<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part>"),
            std::string::npos)
      << "a part without a known checksum has no ChecksumCRC32C element: " << *xml;
}

TEST(BuildCompleteMultipartUploadXmlTest, RejectsBadParts) {
  const auto rejected = [](const std::vector<CompletedPart>& parts, std::string_view part) {
    auto xml = BuildCompleteMultipartUploadXml(parts);
    ASSERT_FALSE(xml.ok());
    EXPECT_EQ(xml.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(xml.error().message.find(part), std::string::npos) << xml.error().message;
  };
  rejected({}, "at least one");
  rejected({{0, "e", 0}}, "out of range");
  rejected({{10001, "e", 0}}, "out of range");
  rejected({{-5, "e", 0}}, "out of range");
  rejected({{2, "e", 0}, {1, "f", 0}}, "does not ascend");
  rejected({{1, "e", 0}, {1, "f", 0}}, "does not ascend");
  rejected({{1, "", 0}}, "ETag");
  rejected({{1, "bad\x02", 0}}, "ETag");
}

}  // namespace
}  // namespace s3mount
