// The s3fs-fuse compatible mapping between S3 objects and POSIX attributes: reading the
// `x-amz-meta-{mode,uid,gid,mtime,ctime,atime}` headers s3fs (and rclone, for mtime) write,
// writing them back exactly as s3fs 1.90 does, extended attributes in s3fs's
// `x-amz-meta-xattr` format plus every other user metadata header as `user.<name>`, and
// symlinks. docs/SEMANTICS.md is the prose version of the rules coded here.
//
// Every function is total: malformed metadata falls back to the mount's defaults, never
// crashes and never throws.
//
// Thread-safety: pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"
#include "s3mount/fs/attributes.h"
#include "s3mount/s3/object_store.h"

namespace s3mount {

// User metadata keys (lower-case, without `x-amz-meta-`) s3fs reads and writes.
inline constexpr std::string_view kMetaMode = "mode";
inline constexpr std::string_view kMetaUid = "uid";
inline constexpr std::string_view kMetaGid = "gid";
inline constexpr std::string_view kMetaMtime = "mtime";
inline constexpr std::string_view kMetaCtime = "ctime";
inline constexpr std::string_view kMetaAtime = "atime";
inline constexpr std::string_view kMetaXattr = "xattr";
inline constexpr std::string_view kMetaRdev = "rdev";  // a device node's st_rdev, decimal

// The Content-Type of directory marker objects (`dir/`) that mkdir writes.
std::string DirectoryMarkerContentType();

// Whether an object found under its own key is a directory: its key ends in '/', or its
// Content-Type is application/x-directory (or Nextcloud's httpd/unix-directory; parameters
// such as `; charset=` ignored). The caller passes the answer, or true for an implicit prefix,
// as `is_directory` below.
bool IsDirectoryObject(const ObjectInfo& object);

// The attributes of `object` (as returned by HEAD/GET, or by LIST with no user metadata):
//  - type: `is_directory` decides directory or not; among non-directories the S_IFMT bits of
//    the `mode` header pick symlink, FIFO or socket; everything else is a regular file.
//  - permissions: the 07777 bits of `mode` (decimal as s3fs writes; `0`-prefixed octal and
//    `0x` hex accepted as s3fs's strtol does), else s3sync's `permissions`, else the
//    defaults; then the umask is cleared, always.
//  - uid/gid: `uid`/`gid`, else s3sync's `owner`/`group`, else the defaults.
//  - mtime: `mtime` (`sec`, `sec.nnnnnnnnn`, rclone's `sec.fraction`), else
//    `goog-reserved-file-mtime`, else last_modified; ctime and atime likewise from their own
//    headers, else last_modified.
//  - size: the object's size (a symlink's is its target's length); 0 for directories.
// A malformed value (not a number, negative, zero time, out of range) is ignored as if absent.
Attributes AttributesFromObject(const ObjectInfo& object, bool is_directory,
                                const AttributeDefaults& defaults);

// The user metadata s3fs 1.90 writes for `attributes`: mode (decimal, with the S_IF type
// bits), uid, gid, and mtime/ctime/atime as `sec` or `sec.nnnnnnnnn` (nine digits, written
// only when the nanoseconds are not zero).
UserMetadata MetadataFromAttributes(const Attributes& attributes);

// `metadata` (an object's user metadata: xattrs, foreign headers) with the s3fs headers
// (mode, uid, gid, mtime, ctime, atime) replaced by those of `attributes`.
UserMetadata WithAttributes(UserMetadata metadata, const Attributes& attributes);

// Parses an s3fs time value: `sec` or `sec.fraction` (1 or more digits; digits beyond
// nanoseconds are dropped). Fails (kInvalidArgument) on anything else, a negative or zero
// second count, or a time WallTime cannot hold.
Result<WallTime> ParseMetadataTime(std::string_view text);

// Formats as s3fs does: `sec`, or `sec.nnnnnnnnn` when the nanoseconds are not zero.
std::string FormatMetadataTime(WallTime time);

// The mode stored in `mode` (or s3sync's `permissions`), with type bits, if present and valid.
std::optional<uint32_t> ModeFromMetadata(const UserMetadata& metadata);

// Symlinks: an object whose mode carries S_IFLNK; its body is the target.
bool IsSymlink(const ObjectInfo& object);

// The S_IF* bits of a file type (as in st_mode and s3fs's mode header).
uint32_t TypeBitsOf(FileType type);

// --- Extended attributes -----------------------------------------------------------------
using Xattrs = std::map<std::string, std::string>;

// s3fs's xattr header: URL-encoded (s3fs's urlEncode: [A-Za-z0-9._~/-] kept, every other
// byte %XX in upper-case hex) JSON object of name -> base64(value), sorted by name, e.g.
// `%7B%22user.color%22%3A%22cmVk%22%7D` for {"user.color": "red"}.
// DecodeXattrs reads the `xattr` entry of `metadata` (absent: an empty map). The JSON is
// parsed strictly first and, if that fails, the way s3fs does (split at ',' and ':',
// quotes stripped), so it reads whatever s3fs reads. Entries whose value is not base64 are
// skipped. Fails with kInvalidResponse only when the header is not decodable at all (a bad
// %-escape, no `{...}`).
Result<Xattrs> DecodeXattrs(const UserMetadata& metadata);

// The header value for `xattrs` ("" for none). Names are written verbatim except that '"',
// '\' and control bytes are JSON-escaped, so ordinary names come out byte-identical to s3fs.
std::string EncodeXattrs(const Xattrs& xattrs);

// Sets metadata["xattr"] to EncodeXattrs(xattrs), or erases it when `xattrs` is empty.
void StoreXattrs(const Xattrs& xattrs, UserMetadata& metadata);

// The extended attribute names of `object`: its s3fs xattrs plus `user.<name>` for every
// other user metadata header except s3fs's own (mode, uid, gid, mtime, ctime, atime, xattr).
// An undecodable xattr header contributes nothing (s3fs shows none either). Sorted, unique.
std::vector<std::string> XattrNamesFor(const ObjectInfo& object);

// One extended attribute's value; an s3fs xattr wins over a header of the same name.
// kNotFound (ENODATA for the adapter) when the object has no such attribute.
Result<std::string> GetXattr(const ObjectInfo& object, std::string_view name);

}  // namespace s3mount
