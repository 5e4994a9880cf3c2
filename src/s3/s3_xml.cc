// Parsers and builders for S3's XML bodies (see s3_xml.h for the rules they follow).
#include "s3/s3_xml.h"

#include <charconv>
#include <initializer_list>
#include <limits>
#include <optional>
#include <utility>

#include "aws/xml_document.h"
#include "s3/s3_error.h"
#include "s3mount/common/strings.h"
#include "s3mount/common/time_format.h"

namespace s3mount {
namespace {

constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr std::string_view kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";
// An <Error> inside a successful reply: S3 sent HTTP 200 for it.
constexpr int kStatusOfErrorIn2xx = 200;

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidResponse, std::move(message));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Checks the root element is one of `names`; an <Error> root becomes the Error it reports.
Status CheckRoot(XmlNode root, std::initializer_list<std::string_view> names) {
  const std::string_view name = root.LocalName();
  if (name == "Error") return ErrorFromErrorElement(root, kStatusOfErrorIn2xx, "");
  for (const std::string_view expected : names) {
    if (name == expected) return OkStatus();
  }
  return Invalid("expected <" + std::string(*names.begin()) + "> but the reply's root is <" +
                 std::string(name.substr(0, 64)) + ">");
}

// Parses the body and checks its root (see CheckRoot).
Result<XmlDocument> OpenReply(std::string_view xml, std::initializer_list<std::string_view> roots) {
  auto doc = XmlDocument::Parse(xml);
  if (!doc.ok()) return std::move(doc).error();
  S3M_RETURN_IF_ERROR(CheckRoot(doc->Root(), roots));
  return doc;
}

Result<std::string> RequiredText(XmlNode parent, std::string_view name) {
  std::optional<std::string> text = parent.ChildText(name);
  if (!text.has_value()) {
    return Invalid("<" + std::string(parent.LocalName()) + "> has no <" + std::string(name) + ">");
  }
  return std::move(*text);
}

Result<std::string> RequiredNonEmpty(XmlNode parent, std::string_view name) {
  auto text = RequiredText(parent, name);
  if (!text.ok()) return std::move(text).error();
  if (TrimAsciiSpace(*text).empty()) {
    return Invalid("<" + std::string(parent.LocalName()) + "> has an empty <" + std::string(name) +
                   ">");
  }
  return text;
}

Result<uint64_t> ParseUnsigned(std::string_view raw, std::string_view name) {
  const std::string_view text = TrimAsciiSpace(raw);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Invalid("<" + std::string(name) + "> is not an unsigned integer: '" +
                   std::string(text.substr(0, 32)) + "'");
  }
  return value;
}

Result<uint64_t> RequiredUnsigned(XmlNode parent, std::string_view name) {
  auto text = RequiredText(parent, name);
  if (!text.ok()) return std::move(text).error();
  return ParseUnsigned(*text, name);
}

// An optional boolean child: absent means false.
Result<bool> OptionalBool(XmlNode parent, std::string_view name) {
  const std::optional<std::string> text = parent.ChildText(name);
  if (!text.has_value()) return false;
  const std::string_view value = TrimAsciiSpace(*text);
  if (value == "true" || value == "True" || value == "TRUE") return true;
  if (value == "false" || value == "False" || value == "FALSE") return false;
  return Invalid("<" + std::string(name) + "> is not a boolean: '" +
                 std::string(value.substr(0, 32)) + "'");
}

// Reads an optional LastModified child into *out.
Status OptionalTime(XmlNode parent, WallTime* out) {
  const std::optional<std::string> text = parent.ChildText("LastModified");
  if (!text.has_value()) return OkStatus();
  auto time = ParseIso8601(*text);
  if (!time.ok()) return std::move(time).error();
  *out = *time;
  return OkStatus();
}

// The key-like text of `parent`'s child `name`, decoded when the listing is url-encoded.
Result<std::string> ListedName(XmlNode parent, std::string_view name, bool url_encoded) {
  auto text = RequiredText(parent, name);
  if (!text.ok()) return std::move(text).error();
  if (!url_encoded) return text;
  return DecodeS3UrlEncoding(*text);
}

Result<ObjectInfo> ParseContents(XmlNode contents, bool url_encoded) {
  ObjectInfo object;
  auto key = ListedName(contents, "Key", url_encoded);
  if (!key.ok()) return std::move(key).error();
  if (key->empty()) return Invalid("<Contents> has an empty <Key>");
  object.key = std::move(*key);
  auto size = RequiredUnsigned(contents, "Size");
  if (!size.ok()) return std::move(size).error();
  object.size = *size;
  object.etag = contents.ChildText("ETag").value_or("");
  object.storage_class =
      std::string(TrimAsciiSpace(contents.ChildText("StorageClass").value_or("")));
  S3M_RETURN_IF_ERROR(OptionalTime(contents, &object.last_modified));
  return object;
}

Result<CompletedPart> ParsePart(XmlNode part) {
  CompletedPart result;
  auto number = RequiredUnsigned(part, "PartNumber");
  if (!number.ok()) return std::move(number).error();
  if (*number < 1 || *number > static_cast<uint64_t>(kMaxPartNumber)) {
    return Invalid("<PartNumber> " + std::to_string(*number) + " is out of range");
  }
  result.part_number = static_cast<int>(*number);
  auto etag = RequiredNonEmpty(part, "ETag");
  if (!etag.ok()) return std::move(etag).error();
  result.etag = std::move(*etag);
  auto size = RequiredUnsigned(part, "Size");
  if (!size.ok()) return std::move(size).error();
  result.size = *size;
  result.checksum_crc32c =
      std::string(TrimAsciiSpace(part.ChildText("ChecksumCRC32C").value_or("")));
  return result;
}

Error InvalidArgument(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

std::string OpenRequestRoot(std::string_view name) {
  std::string out(kXmlDeclaration);
  out += "<" + std::string(name) + " xmlns=\"" + std::string(kS3Namespace) + "\">";
  return out;
}

}  // namespace

Result<std::string> DecodeS3UrlEncoding(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c != '%') {
      out += c;
    } else {
      const bool complete = i + 2 < text.size();
      const int high = complete ? HexValue(text[i + 1]) : -1;
      const int low = complete ? HexValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return Invalid("bad percent-encoding at offset " + std::to_string(i) + " of a listed name");
      }
      out += static_cast<char>(high * 16 + low);
      i += 2;
    }
  }
  return out;
}

Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml) {
  auto doc = OpenReply(xml, {"ListBucketResult"});
  if (!doc.ok()) return std::move(doc).error();
  const XmlNode root = doc->Root();
  ListObjectsPage page;
  const bool url_encoded = TrimAsciiSpace(root.ChildText("EncodingType").value_or("")) == "url";
  for (const XmlNode& contents : root.Children("Contents")) {
    auto object = ParseContents(contents, url_encoded);
    if (!object.ok()) return std::move(object).error();
    page.objects.push_back(std::move(*object));
  }
  for (const XmlNode& common : root.Children("CommonPrefixes")) {
    auto prefix = ListedName(common, "Prefix", url_encoded);
    if (!prefix.ok()) return std::move(prefix).error();
    page.common_prefixes.push_back(std::move(*prefix));
  }
  auto truncated = OptionalBool(root, "IsTruncated");
  if (!truncated.ok()) return std::move(truncated).error();
  page.is_truncated = *truncated;
  page.next_continuation_token = root.ChildText("NextContinuationToken").value_or("");
  if (page.is_truncated && page.next_continuation_token.empty()) {
    return Invalid("truncated listing without a NextContinuationToken");
  }
  return page;
}

Result<ListPartsPage> ParseListParts(std::string_view xml) {
  auto doc = OpenReply(xml, {"ListPartsResult", "ListPartsResponse"});
  if (!doc.ok()) return std::move(doc).error();
  const XmlNode root = doc->Root();
  ListPartsPage page;
  for (const XmlNode& node : root.Children("Part")) {
    auto part = ParsePart(node);
    if (!part.ok()) return std::move(part).error();
    page.parts.push_back(std::move(*part));
  }
  auto truncated = OptionalBool(root, "IsTruncated");
  if (!truncated.ok()) return std::move(truncated).error();
  page.is_truncated = *truncated;
  if (const auto marker = root.ChildText("NextPartNumberMarker"); marker.has_value()) {
    auto value = ParseUnsigned(*marker, "NextPartNumberMarker");
    if (!value.ok()) return std::move(value).error();
    if (*value > static_cast<uint64_t>(kMaxPartNumber)) {
      return Invalid("<NextPartNumberMarker> " + std::to_string(*value) + " is out of range");
    }
    page.next_part_number_marker = static_cast<int>(*value);
  }
  if (page.is_truncated && page.next_part_number_marker == 0) {
    return Invalid("truncated part listing without a NextPartNumberMarker");
  }
  return page;
}

Result<ListUploadsPage> ParseListMultipartUploads(std::string_view xml) {
  auto doc = OpenReply(xml, {"ListMultipartUploadsResult"});
  if (!doc.ok()) return std::move(doc).error();
  const XmlNode root = doc->Root();
  ListUploadsPage page;
  for (const XmlNode& node : root.Children("Upload")) {
    OpenUpload upload;
    auto key = RequiredNonEmpty(node, "Key");
    if (!key.ok()) return std::move(key).error();
    auto id = RequiredNonEmpty(node, "UploadId");
    if (!id.ok()) return std::move(id).error();
    upload.key = std::move(*key);
    upload.upload_id = std::move(*id);
    if (const auto initiated = node.ChildText("Initiated"); initiated.has_value()) {
      auto time = ParseIso8601(*initiated);
      if (!time.ok()) return Invalid("<Initiated> is not a time: " + time.error().message);
      upload.initiated = *time;
    }
    page.uploads.push_back(std::move(upload));
  }
  auto truncated = OptionalBool(root, "IsTruncated");
  if (!truncated.ok()) return std::move(truncated).error();
  page.is_truncated = *truncated;
  page.next_key_marker = root.ChildText("NextKeyMarker").value_or("");
  page.next_upload_id_marker = root.ChildText("NextUploadIdMarker").value_or("");
  if (page.is_truncated && page.next_key_marker.empty()) {
    return Invalid("truncated upload listing without a NextKeyMarker");
  }
  return page;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view xml) {
  auto doc = OpenReply(xml, {"InitiateMultipartUploadResult"});
  if (!doc.ok()) return std::move(doc).error();
  return RequiredNonEmpty(doc->Root(), "UploadId");
}

Result<PutObjectResponse> ParseCompleteMultipartUpload(std::string_view xml) {
  auto doc = OpenReply(xml, {"CompleteMultipartUploadResult", "CompleteMultipartUploadResponse"});
  if (!doc.ok()) return std::move(doc).error();
  auto etag = RequiredNonEmpty(doc->Root(), "ETag");
  if (!etag.ok()) return std::move(etag).error();
  PutObjectResponse response;
  response.etag = std::move(*etag);
  return response;
}

Result<CopyObjectResponse> ParseCopyObjectResult(std::string_view xml) {
  auto doc = OpenReply(xml, {"CopyObjectResult", "CopyPartResult"});
  if (!doc.ok()) return std::move(doc).error();
  const XmlNode root = doc->Root();
  auto etag = RequiredNonEmpty(root, "ETag");
  if (!etag.ok()) return std::move(etag).error();
  CopyObjectResponse response;
  response.etag = std::move(*etag);
  S3M_RETURN_IF_ERROR(OptionalTime(root, &response.last_modified));
  response.checksum_crc32c =
      std::string(TrimAsciiSpace(root.ChildText("ChecksumCRC32C").value_or("")));
  return response;
}

Result<DeleteObjectsResponse> ParseDeleteResult(std::string_view xml) {
  auto doc = OpenReply(xml, {"DeleteResult"});
  if (!doc.ok()) return std::move(doc).error();
  DeleteObjectsResponse response;
  for (const XmlNode& entry : doc->Root().Children("Error")) {
    auto key = RequiredText(entry, "Key");
    if (!key.ok()) return std::move(key).error();
    response.failures.push_back({std::move(*key), ErrorFromErrorElement(entry, 0, "")});
  }
  return response;
}

Result<std::string> BuildDeleteObjectsXml(const std::vector<std::string>& keys, bool quiet) {
  if (keys.empty()) return InvalidArgument("DeleteObjects needs at least one key");
  if (keys.size() > kMaxDeleteBatch) {
    return InvalidArgument("DeleteObjects takes at most " + std::to_string(kMaxDeleteBatch) +
                           " keys, got " + std::to_string(keys.size()));
  }
  std::string out = OpenRequestRoot("Delete");
  if (quiet) out += "<Quiet>true</Quiet>";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].empty()) return InvalidArgument("key #" + std::to_string(i) + " is empty");
    if (!IsValidXmlText(keys[i])) {
      return InvalidArgument("key #" + std::to_string(i) +
                             " holds characters XML 1.0 cannot carry (control characters or "
                             "invalid UTF-8); delete it with DeleteObject instead");
    }
    out += "<Object><Key>" + XmlEscape(keys[i]) + "</Key></Object>";
  }
  out += "</Delete>";
  return out;
}

Result<std::string> BuildCompleteMultipartUploadXml(const std::vector<CompletedPart>& parts) {
  if (parts.empty()) return InvalidArgument("CompleteMultipartUpload needs at least one part");
  std::string out = OpenRequestRoot("CompleteMultipartUpload");
  int previous = 0;
  for (const CompletedPart& part : parts) {
    const std::string number = std::to_string(part.part_number);
    if (part.part_number < 1 || part.part_number > kMaxPartNumber) {
      return InvalidArgument("part number " + number + " is out of range 1.." +
                             std::to_string(kMaxPartNumber));
    }
    if (part.part_number <= previous) {
      return InvalidArgument("part number " + number + " does not ascend (after " +
                             std::to_string(previous) + ")");
    }
    if (part.etag.empty() || !IsValidXmlText(part.etag)) {
      return InvalidArgument("part " + number + " has an empty or unrepresentable ETag");
    }
    if (!IsValidXmlText(part.checksum_crc32c)) {
      return InvalidArgument("part " + number + " has an unrepresentable checksum");
    }
    previous = part.part_number;
    out += "<Part><PartNumber>" + number + "</PartNumber><ETag>" + XmlEscape(part.etag) + "</ETag>";
    if (!part.checksum_crc32c.empty()) {
      out += "<ChecksumCRC32C>" + XmlEscape(part.checksum_crc32c) + "</ChecksumCRC32C>";
    }
    out += "</Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

}  // namespace s3mount
