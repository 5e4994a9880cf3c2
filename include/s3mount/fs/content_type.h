// ContentTypes: the Content-Type s3mount gives a new object from its name's extension, read
// from a mime.types file (`/etc/mime.types` on Debian, as s3fs does), so objects written
// through the mount are served by S3 websites and CDNs the way s3fs's are.
//
// Thread-safety: immutable after loading; safe from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace s3mount {

inline constexpr std::string_view kDefaultContentType = "application/octet-stream";

class ContentTypes {
 public:
  ContentTypes() = default;
  // Parses mime.types text: "type ext1 ext2 ..." lines, '#' comments.
  static ContentTypes Parse(std::string_view text);
  // Loads `path`; a missing or unreadable file gives an empty table (every name then gets
  // the default).
  static ContentTypes Load(const std::string& path);

  // The type for `name`'s extension (case-insensitive), else kDefaultContentType.
  std::string For(std::string_view name) const;
  size_t size() const { return by_extension_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> by_extension_;
};

}  // namespace s3mount
