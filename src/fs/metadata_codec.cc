// s3fs-compatible metadata codec: attributes, times, extended attributes and symlinks (see
// metadata_codec.h and docs/SEMANTICS.md).
#include "s3mount/fs/metadata_codec.h"

#include <sys/stat.h>

#include <array>
#include <charconv>
#include <chrono>
#include <limits>
#include <set>
#include <utility>

#include "s3mount/aws/crypto.h"
#include "s3mount/aws/uri_encoding.h"
#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

constexpr uint32_t kPermissionBits = 07777;
constexpr uint32_t kMaxMode = 0177777;                                 // S_IFMT | 07777
constexpr uint64_t kMaxId = std::numeric_limits<uint32_t>::max() - 1;  // (uid_t)-1 is "none"

// Compatibility headers s3fs also reads (s3sync, gcsfuse).
constexpr std::string_view kMetaS3syncMode = "permissions";
constexpr std::string_view kMetaS3syncUid = "owner";
constexpr std::string_view kMetaS3syncGid = "group";
constexpr std::string_view kMetaGcsMode = "goog-reserved-posix-mode";
constexpr std::string_view kMetaGcsUid = "goog-reserved-posix-uid";
constexpr std::string_view kMetaGcsGid = "goog-reserved-posix-gid";
constexpr std::string_view kMetaGcsMtime = "goog-reserved-file-mtime";

const std::string* Find(const UserMetadata& metadata, std::string_view key) {
  auto it = metadata.find(std::string(key));
  return it == metadata.end() ? nullptr : &it->second;
}

// Digits only in `base`, no sign, no spaces; nullopt on anything else or overflow.
std::optional<uint64_t> ParseDigits(std::string_view text, unsigned base) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    if (digit >= base) return std::nullopt;
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / base) return std::nullopt;
    value = value * base + digit;
  }
  return value;
}

// An unsigned number as strtoul(text, nullptr, 0) reads it when the whole text is one: decimal,
// `0`-prefixed octal, `0x`-prefixed hex; surrounding ASCII spaces allowed.
std::optional<uint64_t> ParseCNumber(std::string_view text) {
  text = TrimAsciiSpace(text);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    return ParseDigits(text.substr(2), 16);
  }
  if (text.size() > 1 && text[0] == '0') return ParseDigits(text.substr(1), 8);
  return ParseDigits(text, 10);
}

std::optional<uint32_t> ParseId(const std::string* text) {
  if (text == nullptr) return std::nullopt;
  auto value = ParseCNumber(*text);
  if (!value || *value > kMaxId) return std::nullopt;
  return static_cast<uint32_t>(*value);
}

std::optional<uint32_t> ParseMode(const std::string* text, bool octal) {
  if (text == nullptr) return std::nullopt;
  std::optional<uint64_t> value =
      octal ? ParseDigits(TrimAsciiSpace(*text), 8) : ParseCNumber(*text);
  if (!value || *value > kMaxMode) return std::nullopt;
  return static_cast<uint32_t>(*value);
}

// The first header of `keys` that holds a valid id.
std::optional<uint32_t> IdFromMetadata(const UserMetadata& metadata,
                                       std::initializer_list<std::string_view> keys) {
  for (std::string_view key : keys) {
    if (const std::string* text = Find(metadata, key)) return ParseId(text);
  }
  return std::nullopt;
}

std::optional<WallTime> TimeFromMetadata(const UserMetadata& metadata, std::string_view key) {
  const std::string* text = Find(metadata, key);
  if (text == nullptr) return std::nullopt;
  auto parsed = ParseMetadataTime(*text);
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

// The file type a non-directory's mode names; regular for no or unknown type bits.
FileType NonDirectoryTypeOf(std::optional<uint32_t> mode) {
  if (!mode) return FileType::kRegular;
  switch (*mode & S_IFMT) {
    case S_IFLNK:
      return FileType::kSymlink;
    case S_IFIFO:
      return FileType::kFifo;
    case S_IFSOCK:
      return FileType::kSocket;
    case S_IFCHR:
      return FileType::kCharDevice;
    case S_IFBLK:
      return FileType::kBlockDevice;
    default:
      return FileType::kRegular;  // S_IFREG, none, S_IFDIR on a file key
  }
}

// The media type of a Content-Type, lower-cased, without parameters.
std::string MediaType(std::string_view content_type) {
  const size_t semicolon = content_type.find(';');
  if (semicolon != std::string_view::npos) content_type = content_type.substr(0, semicolon);
  return AsciiLower(TrimAsciiSpace(content_type));
}

bool IsS3fsOwnHeader(std::string_view key) {
  return key == kMetaMode || key == kMetaUid || key == kMetaGid || key == kMetaMtime ||
         key == kMetaCtime || key == kMetaAtime || key == kMetaXattr || key == kMetaRdev;
}

}  // namespace

uint32_t TypeBitsOf(FileType type) {
  switch (type) {
    case FileType::kRegular:
      return S_IFREG;
    case FileType::kDirectory:
      return S_IFDIR;
    case FileType::kSymlink:
      return S_IFLNK;
    case FileType::kFifo:
      return S_IFIFO;
    case FileType::kSocket:
      return S_IFSOCK;
    case FileType::kCharDevice:
      return S_IFCHR;
    case FileType::kBlockDevice:
      return S_IFBLK;
  }
  return S_IFREG;
}

std::string DirectoryMarkerContentType() { return "application/x-directory"; }

bool IsDirectoryObject(const ObjectInfo& object) {
  if (!object.key.empty() && object.key.back() == '/') return true;
  const std::string media_type = MediaType(object.content_type);
  if (media_type == DirectoryMarkerContentType() || media_type == "httpd/unix-directory") {
    return true;
  }
  auto mode = ModeFromMetadata(object.user_metadata);
  return mode && (*mode & S_IFMT) == S_IFDIR;
}

std::optional<uint32_t> ModeFromMetadata(const UserMetadata& metadata) {
  if (const std::string* text = Find(metadata, kMetaMode)) return ParseMode(text, false);
  if (const std::string* text = Find(metadata, kMetaS3syncMode)) return ParseMode(text, false);
  if (const std::string* text = Find(metadata, kMetaGcsMode)) return ParseMode(text, true);
  return std::nullopt;
}

bool IsSymlink(const ObjectInfo& object) {
  if (!object.key.empty() && object.key.back() == '/') return false;
  auto mode = ModeFromMetadata(object.user_metadata);
  return mode && (*mode & S_IFMT) == S_IFLNK;
}

Attributes AttributesFromObject(const ObjectInfo& object, bool is_directory,
                                const AttributeDefaults& defaults) {
  const UserMetadata& metadata = object.user_metadata;
  const std::optional<uint32_t> mode = ModeFromMetadata(metadata);
  Attributes attributes;
  attributes.type = is_directory ? FileType::kDirectory : NonDirectoryTypeOf(mode);
  const uint32_t default_permissions =
      is_directory ? defaults.dir_permissions : defaults.file_permissions;
  attributes.permissions =
      (mode ? (*mode & kPermissionBits) : default_permissions) & ~defaults.umask & kPermissionBits;
  attributes.uid =
      IdFromMetadata(metadata, {kMetaUid, kMetaS3syncUid, kMetaGcsUid}).value_or(defaults.uid);
  attributes.gid =
      IdFromMetadata(metadata, {kMetaGid, kMetaS3syncGid, kMetaGcsGid}).value_or(defaults.gid);
  attributes.size = is_directory ? 0 : object.size;
  std::optional<WallTime> mtime = TimeFromMetadata(metadata, kMetaMtime);
  if (!mtime) mtime = TimeFromMetadata(metadata, kMetaGcsMtime);
  attributes.mtime = mtime.value_or(object.last_modified);
  attributes.ctime = TimeFromMetadata(metadata, kMetaCtime).value_or(object.last_modified);
  attributes.atime = TimeFromMetadata(metadata, kMetaAtime).value_or(object.last_modified);
  attributes.nlink = 1;
  if (attributes.type == FileType::kCharDevice || attributes.type == FileType::kBlockDevice) {
    if (const std::string* text = Find(metadata, kMetaRdev)) {
      uint64_t rdev = 0;
      const char* end = text->data() + text->size();
      if (std::from_chars(text->data(), end, rdev).ptr == end && !text->empty()) {
        attributes.rdev = rdev;
      }
    }
  }
  return attributes;
}

UserMetadata MetadataFromAttributes(const Attributes& attributes) {
  UserMetadata metadata;
  metadata[std::string(kMetaMode)] =
      std::to_string(TypeBitsOf(attributes.type) | (attributes.permissions & kPermissionBits));
  metadata[std::string(kMetaUid)] = std::to_string(attributes.uid);
  metadata[std::string(kMetaGid)] = std::to_string(attributes.gid);
  metadata[std::string(kMetaMtime)] = FormatMetadataTime(attributes.mtime);
  metadata[std::string(kMetaCtime)] = FormatMetadataTime(attributes.ctime);
  metadata[std::string(kMetaAtime)] = FormatMetadataTime(attributes.atime);
  if (attributes.type == FileType::kCharDevice || attributes.type == FileType::kBlockDevice) {
    metadata[std::string(kMetaRdev)] = std::to_string(attributes.rdev);
  }
  return metadata;
}

UserMetadata WithAttributes(UserMetadata metadata, const Attributes& attributes) {
  for (std::string_view name :
       {kMetaMode, kMetaUid, kMetaGid, kMetaMtime, kMetaCtime, kMetaAtime, kMetaRdev}) {
    metadata.erase(std::string(name));
  }
  for (auto& [name, value] : MetadataFromAttributes(attributes)) metadata[name] = value;
  // s3sync's names would win over ours when read back: drop them.
  metadata.erase("permissions");
  metadata.erase("owner");
  metadata.erase("group");
  return metadata;
}

Result<WallTime> ParseMetadataTime(std::string_view text) {
  text = TrimAsciiSpace(text);
  std::string_view whole = text;
  std::string_view fraction;
  const size_t dot = text.find('.');
  if (dot != std::string_view::npos) {
    whole = text.substr(0, dot);
    fraction = text.substr(dot + 1);
    if (fraction.empty()) return MakeError(ErrorCode::kInvalidArgument, "empty fraction");
  }
  const std::optional<uint64_t> secs = ParseDigits(whole, 10);
  if (!secs || *secs == 0) return MakeError(ErrorCode::kInvalidArgument, "bad seconds");
  int64_t nanos = 0;
  for (size_t i = 0; i < fraction.size(); ++i) {
    const char c = fraction[i];
    if (c < '0' || c > '9') return MakeError(ErrorCode::kInvalidArgument, "bad fraction");
    if (i < 9) nanos = nanos * 10 + (c - '0');
  }
  for (size_t i = fraction.size(); i < 9; ++i) nanos *= 10;
  constexpr auto kMaxSeconds =
      std::chrono::duration_cast<seconds>(WallTime::duration::max()).count() - 1;
  if (*secs > static_cast<uint64_t>(kMaxSeconds)) {
    return MakeError(ErrorCode::kInvalidArgument, "time out of range");
  }
  return WallTime(std::chrono::duration_cast<WallTime::duration>(
      seconds(static_cast<int64_t>(*secs)) + nanoseconds(nanos)));
}

std::string FormatMetadataTime(WallTime time) {
  const auto since_epoch = std::chrono::duration_cast<nanoseconds>(time.time_since_epoch());
  auto secs = std::chrono::floor<seconds>(since_epoch);
  const int64_t nanos = (since_epoch - secs).count();
  std::string out = std::to_string(secs.count());
  if (nanos != 0) {
    std::string digits = std::to_string(nanos);
    out += '.';
    out.append(9 - digits.size(), '0');
    out += digits;
  }
  return out;
}

// --- Extended attributes -----------------------------------------------------------------
namespace {

// Base64 as s3fs writes it, also accepting missing '=' padding.
std::optional<std::string> DecodeBase64Value(std::string_view text) {
  std::string padded(text);
  if (padded.size() % 4 == 1) return std::nullopt;
  while (padded.size() % 4 != 0) padded += '=';
  auto decoded = Base64Decode(padded);
  if (!decoded.ok()) return std::nullopt;
  return std::move(decoded).value();
}

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// A strict parser for the one JSON shape s3fs writes: a flat object of string -> string.
// Bytes >= 0x20 inside strings are taken verbatim (names are bytes, not necessarily UTF-8).
class FlatJsonParser {
 public:
  explicit FlatJsonParser(std::string_view text) : text_(text) {}

  std::optional<std::vector<std::pair<std::string, std::string>>> Parse() {
    std::vector<std::pair<std::string, std::string>> pairs;
    SkipSpace();
    if (!Consume('{')) return std::nullopt;
    SkipSpace();
    if (!Consume('}')) {
      while (true) {
        std::pair<std::string, std::string> pair;
        SkipSpace();
        if (!ParseString(pair.first)) return std::nullopt;
        SkipSpace();
        if (!Consume(':')) return std::nullopt;
        SkipSpace();
        if (!ParseString(pair.second)) return std::nullopt;
        pairs.push_back(std::move(pair));
        SkipSpace();
        if (Consume('}')) break;
        if (!Consume(',')) return std::nullopt;
      }
    }
    SkipSpace();
    if (pos_ != text_.size()) return std::nullopt;
    return pairs;
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && IsAsciiSpace(text_[pos_])) ++pos_;
  }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::optional<uint32_t> ParseHex4() {
    if (text_.size() - pos_ < 4) return std::nullopt;
    auto value = ParseDigits(text_.substr(pos_, 4), 16);
    if (value) pos_ += 4;
    return value ? std::optional<uint32_t>(static_cast<uint32_t>(*value)) : std::nullopt;
  }
  bool ParseUnicodeEscape(std::string& out) {
    std::optional<uint32_t> unit = ParseHex4();
    if (!unit) return false;
    uint32_t code_point = *unit;
    if (code_point >= 0xD800 && code_point <= 0xDBFF) {
      if (!Consume('\\') || !Consume('u')) return false;
      std::optional<uint32_t> low = ParseHex4();
      if (!low || *low < 0xDC00 || *low > 0xDFFF) return false;
      code_point = 0x10000 + ((code_point - 0xD800) << 10) + (*low - 0xDC00);
    } else if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
      return false;
    }
    AppendUtf8(code_point, out);
    return true;
  }
  bool ParseEscape(std::string& out) {
    if (pos_ >= text_.size()) return false;
    const char c = text_[pos_++];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out += c;
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u':
        return ParseUnicodeEscape(out);
      default:
        return false;
    }
  }
  bool ParseString(std::string& out) {
    if (!Consume('"')) return false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        if (!ParseEscape(out)) return false;
      } else {
        out += c;
      }
    }
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// s3fs's takeout_str_dquart: drops everything up to the first '"' and from the last one; a
// '"' left between them makes the entry invalid. Text without quotes is kept as is.
std::optional<std::string> TakeOutQuotes(std::string_view text) {
  const size_t first = text.find('"');
  if (first == std::string_view::npos) return std::string(text);
  text.remove_prefix(first + 1);
  const size_t last = text.rfind('"');
  if (last == std::string_view::npos) return std::nullopt;
  text = text.substr(0, last);
  if (text.find('"') != std::string_view::npos) return std::nullopt;
  return std::string(text);
}

// s3fs's parse_xattrs: the text between the first '{' and the last '}', split at ',' into
// pairs, each split at its first ':'. Pairs it cannot read are skipped.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseLikeS3fs(
    std::string_view json) {
  const size_t open = json.find('{');
  const size_t close = json.rfind('}');
  if (open == std::string_view::npos || close == std::string_view::npos || close <= open) {
    return std::nullopt;
  }
  std::string_view rest = json.substr(open + 1, close - open - 1);
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view pair = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t colon = pair.find(':');
    if (colon == std::string_view::npos) continue;
    auto name = TakeOutQuotes(pair.substr(0, colon));
    auto value = TakeOutQuotes(pair.substr(colon + 1));
    if (name && value) pairs.emplace_back(std::move(*name), std::move(*value));
  }
  return pairs;
}

void AppendJsonString(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

Result<Xattrs> DecodeXattrs(const UserMetadata& metadata) {
  Xattrs xattrs;
  const std::string* header = Find(metadata, kMetaXattr);
  if (header == nullptr || TrimAsciiSpace(*header).empty()) return xattrs;
  auto json = UrlDecode(*header, /*plus_is_space=*/false);
  if (!json.ok()) {
    return MakeError(ErrorCode::kInvalidResponse, "xattr header: " + json.error().message);
  }
  auto pairs = FlatJsonParser(*json).Parse();
  if (!pairs) pairs = ParseLikeS3fs(*json);
  if (!pairs) return MakeError(ErrorCode::kInvalidResponse, "xattr header is not a JSON object");
  for (auto& [name, encoded] : *pairs) {
    if (name.empty()) continue;
    std::optional<std::string> value = DecodeBase64Value(encoded);
    if (value) xattrs[name] = std::move(*value);
  }
  return xattrs;
}

std::string EncodeXattrs(const Xattrs& xattrs) {
  if (xattrs.empty()) return "";
  std::string json = "{";
  bool first = true;
  for (const auto& [name, value] : xattrs) {
    if (!first) json += ',';
    first = false;
    AppendJsonString(name, json);
    json += ':';
    AppendJsonString(Base64Encode(value), json);
  }
  json += '}';
  return UriEncode(json, /*encode_slash=*/false);
}

void StoreXattrs(const Xattrs& xattrs, UserMetadata& metadata) {
  if (xattrs.empty()) {
    metadata.erase(std::string(kMetaXattr));
  } else {
    metadata[std::string(kMetaXattr)] = EncodeXattrs(xattrs);
  }
}

std::vector<std::string> XattrNamesFor(const ObjectInfo& object) {
  std::set<std::string> names;
  auto xattrs = DecodeXattrs(object.user_metadata);
  if (xattrs.ok()) {
    for (const auto& [name, value] : *xattrs) names.insert(name);
  }
  for (const auto& [key, value] : object.user_metadata) {
    if (!key.empty() && !IsS3fsOwnHeader(key)) names.insert("user." + key);
  }
  return {names.begin(), names.end()};
}

Result<std::string> GetXattr(const ObjectInfo& object, std::string_view name) {
  auto xattrs = DecodeXattrs(object.user_metadata);
  if (xattrs.ok()) {
    auto it = xattrs->find(std::string(name));
    if (it != xattrs->end()) return it->second;
  }
  constexpr std::string_view kUserPrefix = "user.";
  if (name.starts_with(kUserPrefix)) {
    const std::string_view key = name.substr(kUserPrefix.size());
    if (!key.empty() && !IsS3fsOwnHeader(key)) {
      if (const std::string* value = Find(object.user_metadata, key)) return *value;
    }
  }
  return MakeError(ErrorCode::kNoData, "no extended attribute " + std::string(name));
}

}  // namespace s3mount
