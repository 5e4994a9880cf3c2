// Tests for the s3fs-compatible metadata codec (s3mount/fs/metadata_codec.h). The "S3fs190"
// samples are the exact user metadata s3fs 1.90 wrote to a moto_server bucket (captured with
// `aws s3api head-object` after mkdir, chmod, chown, touch, ln -s, mkfifo, setxattr on an
// s3fs mount), so these tests pin compatibility with what is really in buckets.
#include "s3mount/fs/metadata_codec.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <limits>
#include <string>

namespace s3mount {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

WallTime At(int64_t secs, int64_t nanos = 0) {
  return WallTime(
      std::chrono::duration_cast<WallTime::duration>(seconds(secs) + nanoseconds(nanos)));
}

int64_t Nanos(WallTime time) {
  return std::chrono::duration_cast<nanoseconds>(time.time_since_epoch()).count();
}

constexpr int64_t kLastModified = 1795325834;

ObjectInfo Object(std::string key, UserMetadata metadata, uint64_t size = 0,
                  std::string content_type = "application/octet-stream") {
  ObjectInfo object;
  object.key = std::move(key);
  object.size = size;
  object.last_modified = At(kLastModified);
  object.content_type = std::move(content_type);
  object.user_metadata = std::move(metadata);
  return object;
}

AttributeDefaults Defaults() {
  AttributeDefaults defaults;
  defaults.uid = 1000;
  defaults.gid = 100;
  defaults.file_permissions = 0644;
  defaults.dir_permissions = 0755;
  defaults.umask = 0;
  return defaults;
}

// --- Captured s3fs 1.90 samples --------------------------------------------------------------

TEST(MetadataCodecS3fs190Test, RegularFileAfterChmodChownTouch) {
  // echo hello > file.txt; chmod 0640; chown 1234:5678; touch -d '...20.123456789'
  const ObjectInfo object = Object("file.txt",
                                   {{"atime", "1700000000.123456789"},
                                    {"ctime", "1795325834"},
                                    {"gid", "5678"},
                                    {"mode", "33184"},
                                    {"mtime", "1700000000.123456789"},
                                    {"uid", "1234"}},
                                   6, "text/plain");
  const Attributes attributes = AttributesFromObject(object, false, Defaults());
  EXPECT_EQ(attributes.type, FileType::kRegular);
  EXPECT_EQ(attributes.permissions, 0640u);
  EXPECT_EQ(attributes.uid, 1234u);
  EXPECT_EQ(attributes.gid, 5678u);
  EXPECT_EQ(attributes.size, 6u);
  EXPECT_EQ(Nanos(attributes.mtime), Nanos(At(1700000000, 123456789)));
  EXPECT_EQ(Nanos(attributes.atime), Nanos(At(1700000000, 123456789)));
  EXPECT_EQ(Nanos(attributes.ctime), Nanos(At(1795325834)));
  EXPECT_EQ(attributes.nlink, 1u);
  // Writing the same attributes back gives exactly what s3fs wrote.
  EXPECT_EQ(MetadataFromAttributes(attributes), object.user_metadata);
  EXPECT_FALSE(IsSymlink(object));
  EXPECT_FALSE(IsDirectoryObject(object));
}

TEST(MetadataCodecS3fs190Test, DirectoryMarkers) {
  // mkdir d; chmod 0750 d: chmod writes S_IFDIR into the mode.
  const ObjectInfo chmodded = Object("d/",
                                     {{"atime", "1795325834"},
                                      {"ctime", "1795325834"},
                                      {"gid", "0"},
                                      {"mode", "16872"},
                                      {"mtime", "1795325834"},
                                      {"uid", "0"}},
                                     0, "application/x-directory");
  EXPECT_TRUE(IsDirectoryObject(chmodded));
  Attributes attributes = AttributesFromObject(chmodded, true, Defaults());
  EXPECT_EQ(attributes.type, FileType::kDirectory);
  EXPECT_EQ(attributes.permissions, 0750u);
  EXPECT_EQ(attributes.uid, 0u);
  EXPECT_EQ(MetadataFromAttributes(attributes), chmodded.user_metadata);

  // mkdir -m 0700 newdir: s3fs 1.90's mkdir writes the mode WITHOUT type bits (448 = 0700).
  const ObjectInfo fresh = Object("newdir/",
                                  {{"atime", "1700000000"},
                                   {"ctime", "1700000000"},
                                   {"gid", "0"},
                                   {"mode", "448"},
                                   {"mtime", "1700000000"},
                                   {"uid", "0"}},
                                  0, "application/x-directory");
  EXPECT_TRUE(IsDirectoryObject(fresh));
  attributes = AttributesFromObject(fresh, true, Defaults());
  EXPECT_EQ(attributes.type, FileType::kDirectory);
  EXPECT_EQ(attributes.permissions, 0700u);
  EXPECT_EQ(Nanos(attributes.mtime), Nanos(At(1700000000)));
  // We write the type bits, as s3fs's own chmod does.
  EXPECT_EQ(MetadataFromAttributes(attributes).at("mode"), std::to_string(S_IFDIR | 0700));
}

TEST(MetadataCodecS3fs190Test, SymlinkFifoAndSocket) {
  const UserMetadata common = {{"atime", "1795325834"},
                               {"ctime", "1795325834"},
                               {"gid", "0"},
                               {"mtime", "1795325834"},
                               {"uid", "0"}};
  UserMetadata link_metadata = common;
  link_metadata["mode"] = "41471";  // S_IFLNK | 0777; body "file.txt"
  const ObjectInfo link = Object("link", link_metadata, 8);
  EXPECT_TRUE(IsSymlink(link));
  Attributes attributes = AttributesFromObject(link, false, Defaults());
  EXPECT_EQ(attributes.type, FileType::kSymlink);
  EXPECT_EQ(attributes.permissions, 0777u);
  EXPECT_EQ(attributes.size, 8u);  // strlen("file.txt")
  EXPECT_EQ(MetadataFromAttributes(attributes), link_metadata);

  UserMetadata fifo_metadata = common;
  fifo_metadata["mode"] = "4516";  // S_IFIFO | 0644
  attributes = AttributesFromObject(Object("fifo", fifo_metadata), false, Defaults());
  EXPECT_EQ(attributes.type, FileType::kFifo);
  EXPECT_EQ(attributes.permissions, 0644u);
  EXPECT_EQ(MetadataFromAttributes(attributes), fifo_metadata);

  UserMetadata socket_metadata = common;
  socket_metadata["mode"] = "49645";  // S_IFSOCK | 0755
  attributes = AttributesFromObject(Object("sock", socket_metadata), false, Defaults());
  EXPECT_EQ(attributes.type, FileType::kSocket);
  EXPECT_EQ(attributes.permissions, 0755u);
  EXPECT_EQ(MetadataFromAttributes(attributes), socket_metadata);
}

TEST(MetadataCodecS3fs190Test, MicrosecondTimeIsZeroPaddedToNineDigits) {
  // touch -d '@1700000000.000001' e.txt
  EXPECT_EQ(FormatMetadataTime(At(1700000000, 1000)), "1700000000.000001000");
  auto parsed = ParseMetadataTime("1700000000.000001000");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(Nanos(*parsed), Nanos(At(1700000000, 1000)));
}

// --- Attributes from metadata ----------------------------------------------------------------

TEST(AttributesFromObjectTest, NoMetadataUsesDefaultsAndLastModified) {
  const ObjectInfo object = Object("plain.bin", {}, 42);
  Attributes attributes = AttributesFromObject(object, false, Defaults());
  EXPECT_EQ(attributes.type, FileType::kRegular);
  EXPECT_EQ(attributes.permissions, 0644u);
  EXPECT_EQ(attributes.uid, 1000u);
  EXPECT_EQ(attributes.gid, 100u);
  EXPECT_EQ(attributes.size, 42u);
  EXPECT_EQ(Nanos(attributes.mtime), Nanos(At(kLastModified)));
  EXPECT_EQ(Nanos(attributes.ctime), Nanos(At(kLastModified)));
  EXPECT_EQ(Nanos(attributes.atime), Nanos(At(kLastModified)));

  attributes = AttributesFromObject(Object("implicit/", {}, 0), true, Defaults());
  EXPECT_EQ(attributes.type, FileType::kDirectory);
  EXPECT_EQ(attributes.permissions, 0755u);
  EXPECT_EQ(attributes.size, 0u);
}

TEST(AttributesFromObjectTest, UmaskAppliesToEveryMode) {
  AttributeDefaults defaults = Defaults();
  defaults.umask = 0027;
  EXPECT_EQ(AttributesFromObject(Object("f", {}), false, defaults).permissions, 0640u);
  EXPECT_EQ(AttributesFromObject(Object("d/", {}), true, defaults).permissions, 0750u);
  EXPECT_EQ(AttributesFromObject(Object("f", {{"mode", "33279"}}), false, defaults).permissions,
            0750u);  // 0100777 & ~027
  EXPECT_EQ(AttributesFromObject(Object("d/", {{"mode", "16895"}}), true, defaults).permissions,
            0750u);  // 040777
  defaults.umask = 07777;
  EXPECT_EQ(AttributesFromObject(Object("f", {{"mode", "36333"}}), false, defaults).permissions,
            0u);  // setuid bits go too
}

TEST(AttributesFromObjectTest, SpecialBitsAreKept) {
  EXPECT_EQ(AttributesFromObject(Object("f", {{"mode", std::to_string(S_IFREG | 04755)}}), false,
                                 Defaults())
                .permissions,
            04755u);
  EXPECT_EQ(AttributesFromObject(Object("d/", {{"mode", std::to_string(S_IFDIR | 01777)}}), true,
                                 Defaults())
                .permissions,
            01777u);
}

TEST(AttributesFromObjectTest, IsDirectoryDecidesOverTheModeTypeBits) {
  // A marker whose mode says "regular file" (some tools write 0100644 everywhere).
  Attributes attributes = AttributesFromObject(Object("d/", {{"mode", "33188"}}), true, Defaults());
  EXPECT_EQ(attributes.type, FileType::kDirectory);
  EXPECT_EQ(attributes.permissions, 0644u);
  // A file key whose mode says "directory" is still a file here.
  attributes = AttributesFromObject(Object("f", {{"mode", "16877"}}), false, Defaults());
  EXPECT_EQ(attributes.type, FileType::kRegular);
  EXPECT_EQ(attributes.permissions, 0755u);
  // A symlink mode on a directory key does not make it a symlink.
  attributes = AttributesFromObject(Object("d/", {{"mode", "41471"}}), true, Defaults());
  EXPECT_EQ(attributes.type, FileType::kDirectory);
}

TEST(AttributesFromObjectTest, ModeWithoutTypeBitsOrWithDeviceBitsFollowsTheObject) {
  EXPECT_EQ(AttributesFromObject(Object("f", {{"mode", "420"}}), false, Defaults()).type,
            FileType::kRegular);
  EXPECT_EQ(AttributesFromObject(Object("d/", {{"mode", "493"}}), true, Defaults()).type,
            FileType::kDirectory);
  // Devices as s3fs's mknod stores them: the type in the mode, the number in rdev.
  const Attributes null = AttributesFromObject(
      Object("c", {{"mode", std::to_string(S_IFCHR | 0666)}, {"rdev", "259"}}), false, Defaults());
  EXPECT_EQ(null.type, FileType::kCharDevice);
  EXPECT_EQ(null.rdev, 259u);
  EXPECT_EQ(MetadataFromAttributes(null).at("rdev"), "259");
  const Attributes loop = AttributesFromObject(
      Object("b", {{"mode", std::to_string(S_IFBLK | 0600)}, {"rdev", "7x"}}), false, Defaults());
  EXPECT_EQ(loop.type, FileType::kBlockDevice);
  EXPECT_EQ(loop.rdev, 0u) << "a malformed rdev is ignored";
  // Only devices carry rdev.
  EXPECT_EQ(
      AttributesFromObject(Object("f", {{"mode", "33188"}, {"rdev", "5"}}), false, Defaults()).rdev,
      0u);
  EXPECT_FALSE(MetadataFromAttributes(Attributes{}).contains("rdev"));
}

TEST(AttributesFromObjectTest, ModeAcceptsS3fsStrtolForms) {
  auto permissions = [](std::string mode) {
    return AttributesFromObject(Object("f", {{"mode", std::move(mode)}}), false, Defaults())
        .permissions;
  };
  EXPECT_EQ(permissions("33261"), 0755u);
  EXPECT_EQ(permissions("0755"), 0755u);     // leading 0: octal, as strtol(.., 0)
  EXPECT_EQ(permissions("0x81ed"), 0755u);   // hex
  EXPECT_EQ(permissions(" 33261 "), 0755u);  // surrounding spaces
  EXPECT_EQ(permissions("0"), 0u);
}

TEST(AttributesFromObjectTest, MalformedValuesFallBackToDefaults) {
  // Bad for every header: mode, uid, gid and the three times.
  const char* const kBad[] = {
      "",   "abc",  "-1",  "+420", "42x", "1e3",  "NaN",
      "0x", "0x1g", "4 2", "inf",  "0.5", "\x01", "99999999999999999999999"};
  for (const char* bad : kBad) {
    const ObjectInfo object = Object("f", {{"mode", bad},
                                           {"uid", bad},
                                           {"gid", bad},
                                           {"mtime", bad},
                                           {"ctime", bad},
                                           {"atime", bad}});
    const Attributes attributes = AttributesFromObject(object, false, Defaults());
    EXPECT_EQ(attributes.permissions, 0644u) << "'" << bad << "'";
    EXPECT_EQ(attributes.type, FileType::kRegular) << "'" << bad << "'";
    EXPECT_EQ(attributes.uid, 1000u) << "'" << bad << "'";
    EXPECT_EQ(attributes.gid, 100u) << "'" << bad << "'";
    EXPECT_EQ(Nanos(attributes.mtime), Nanos(At(kLastModified))) << "'" << bad << "'";
    EXPECT_EQ(Nanos(attributes.ctime), Nanos(At(kLastModified))) << "'" << bad << "'";
    EXPECT_EQ(Nanos(attributes.atime), Nanos(At(kLastModified))) << "'" << bad << "'";
  }
}

TEST(AttributesFromObjectTest, ModeRange) {
  auto permissions = [](std::string mode) {
    return AttributesFromObject(Object("f", {{"mode", std::move(mode)}}), false, Defaults())
        .permissions;
  };
  EXPECT_EQ(permissions("65535"), 07777u);  // 0177777: the largest mode
  EXPECT_EQ(permissions("65536"), 0644u);   // beyond S_IFMT | 07777: ignored
  EXPECT_EQ(permissions("08"), 0644u);      // not octal
}

TEST(AttributesFromObjectTest, IdRange) {
  auto uid = [](std::string text) {
    return AttributesFromObject(Object("f", {{"uid", std::move(text)}}), false, Defaults()).uid;
  };
  EXPECT_EQ(uid("0"), 0u);
  EXPECT_EQ(uid("4294967294"), 4294967294u);
  EXPECT_EQ(uid("4294967295"), 1000u);  // (uid_t)-1 means "no id"
  EXPECT_EQ(uid("4294967296"), 1000u);
  EXPECT_EQ(uid("18446744073709551616"), 1000u);  // overflows uint64
}

TEST(AttributesFromObjectTest, CompatibilityHeaders) {
  // s3sync: permissions/owner/group; gcsfuse: goog-reserved-* (mode in octal).
  Attributes attributes = AttributesFromObject(
      Object("f", {{"permissions", "33200"}, {"owner", "7"}, {"group", "8"}}), false, Defaults());
  EXPECT_EQ(attributes.permissions, 0660u);
  EXPECT_EQ(attributes.uid, 7u);
  EXPECT_EQ(attributes.gid, 8u);
  attributes = AttributesFromObject(Object("f", {{"goog-reserved-posix-mode", "640"},
                                                 {"goog-reserved-posix-uid", "9"},
                                                 {"goog-reserved-posix-gid", "10"},
                                                 {"goog-reserved-file-mtime", "1600000000"}}),
                                    false, Defaults());
  EXPECT_EQ(attributes.permissions, 0640u);
  EXPECT_EQ(attributes.uid, 9u);
  EXPECT_EQ(attributes.gid, 10u);
  EXPECT_EQ(Nanos(attributes.mtime), Nanos(At(1600000000)));
  // s3fs's own headers win.
  attributes = AttributesFromObject(Object("f", {{"mode", "33188"},
                                                 {"permissions", "33200"},
                                                 {"uid", "1"},
                                                 {"owner", "7"},
                                                 {"mtime", "1500000000"},
                                                 {"goog-reserved-file-mtime", "1600000000"}}),
                                    false, Defaults());
  EXPECT_EQ(attributes.permissions, 0644u);
  EXPECT_EQ(attributes.uid, 1u);
  EXPECT_EQ(Nanos(attributes.mtime), Nanos(At(1500000000)));
}

// --- Times -----------------------------------------------------------------------------------

TEST(MetadataTimeTest, ParsesS3fsAndRcloneForms) {
  struct Case {
    const char* text;
    int64_t secs;
    int64_t nanos;
  };
  const Case kCases[] = {
      {"1700000000", 1700000000, 0},
      {"1700000000.123456789", 1700000000, 123456789},
      {"1700000000.5", 1700000000, 500000000},             // rclone: float seconds
      {"1700000000.1234567", 1700000000, 123456700},       // shortest float repr
      {"1700000000.123456789999", 1700000000, 123456789},  // extra digits dropped
      {"1700000000.000000001", 1700000000, 1},
      {" 1700000000 ", 1700000000, 0},
      {"1", 1, 0},
  };
  for (const Case& c : kCases) {
    auto parsed = ParseMetadataTime(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text;
    EXPECT_EQ(Nanos(*parsed), Nanos(At(c.secs, c.nanos))) << c.text;
  }
}

TEST(MetadataTimeTest, RejectsMalformedValues) {
  const char* const kBad[] = {"",
                              "-1",
                              "-1700000000.5",
                              "0",
                              "0.5",
                              "NaN",
                              "nan",
                              "inf",
                              "1e9",
                              "1.7e9",
                              "abc",
                              "1700000000.",
                              ".5",
                              "1.2.3",
                              "+17",
                              "1 7",
                              "0x10",
                              "1700000000.5x",
                              "9223372036",
                              "99999999999999999999999"};
  for (const char* bad : kBad) {
    auto parsed = ParseMetadataTime(bad);
    EXPECT_FALSE(parsed.ok()) << "accepted '" << bad << "'";
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << bad;
    }
  }
  // The latest second WallTime can hold still parses.
  EXPECT_TRUE(ParseMetadataTime("9223372035.999999999").ok());
}

TEST(MetadataTimeTest, FormatsLikeS3fs) {
  EXPECT_EQ(FormatMetadataTime(At(1700000000)), "1700000000");
  EXPECT_EQ(FormatMetadataTime(At(1700000000, 123456789)), "1700000000.123456789");
  EXPECT_EQ(FormatMetadataTime(At(1700000000, 500000000)), "1700000000.500000000");
  EXPECT_EQ(FormatMetadataTime(At(0)), "0");
  EXPECT_EQ(FormatMetadataTime(At(-1, 500000000)), "-1.500000000");  // floor, like timespec
}

TEST(MetadataTimeTest, RoundTrips) {
  for (int64_t nanos : {0, 1, 999, 1000, 123456789, 999999999}) {
    const WallTime time = At(1712345678, nanos);
    auto parsed = ParseMetadataTime(FormatMetadataTime(time));
    ASSERT_TRUE(parsed.ok()) << nanos;
    EXPECT_EQ(Nanos(*parsed), Nanos(time));
  }
}

// --- Writing ----------------------------------------------------------------------------------

TEST(MetadataFromAttributesTest, WritesAllSixHeadersWithTypeBits) {
  Attributes attributes;
  attributes.type = FileType::kRegular;
  attributes.permissions = 0600;
  attributes.uid = 42;
  attributes.gid = 43;
  attributes.mtime = At(1700000000, 1);
  attributes.ctime = At(1700000001);
  attributes.atime = At(1700000002, 20);
  const UserMetadata expected = {{"mode", "33152"},  // 0100600
                                 {"uid", "42"},
                                 {"gid", "43"},
                                 {"mtime", "1700000000.000000001"},
                                 {"ctime", "1700000001"},
                                 {"atime", "1700000002.000000020"}};
  EXPECT_EQ(MetadataFromAttributes(attributes), expected);
  attributes.permissions = 0170777;  // bits outside 07777 are not ours to write
  EXPECT_EQ(MetadataFromAttributes(attributes).at("mode"), "33279");
}

TEST(MetadataFromAttributesTest, RoundTripsEveryType) {
  for (FileType type :
       {FileType::kRegular, FileType::kDirectory, FileType::kSymlink, FileType::kFifo,
        FileType::kSocket, FileType::kCharDevice, FileType::kBlockDevice}) {
    Attributes attributes;
    attributes.type = type;
    attributes.permissions = 02751;
    attributes.uid = 5;
    attributes.gid = 6;
    attributes.mtime = At(1600000000, 7);
    attributes.ctime = At(1600000001, 8);
    attributes.atime = At(1600000002, 9);
    const bool is_directory = type == FileType::kDirectory;
    const ObjectInfo object =
        Object(is_directory ? "x/" : "x", MetadataFromAttributes(attributes), 0);
    const Attributes back = AttributesFromObject(object, is_directory, Defaults());
    EXPECT_EQ(back.type, type);
    EXPECT_EQ(back.permissions, 02751u);
    EXPECT_EQ(back.uid, 5u);
    EXPECT_EQ(back.gid, 6u);
    EXPECT_EQ(Nanos(back.mtime), Nanos(attributes.mtime));
    EXPECT_EQ(Nanos(back.ctime), Nanos(attributes.ctime));
    EXPECT_EQ(Nanos(back.atime), Nanos(attributes.atime));
    EXPECT_EQ(IsSymlink(object), type == FileType::kSymlink);
  }
}

// --- Directories and symlinks ----------------------------------------------------------------

TEST(DirectoryObjectTest, RecognisedByKeyOrContentType) {
  EXPECT_EQ(DirectoryMarkerContentType(), "application/x-directory");
  EXPECT_TRUE(IsDirectoryObject(Object("a/", {}, 0, "binary/octet-stream")));
  EXPECT_TRUE(IsDirectoryObject(Object("a", {}, 0, "application/x-directory")));
  EXPECT_TRUE(IsDirectoryObject(Object("a", {}, 0, "application/x-directory; charset=UTF-8")));
  EXPECT_TRUE(IsDirectoryObject(Object("a", {}, 0, "Application/X-Directory")));
  EXPECT_TRUE(IsDirectoryObject(Object("a", {}, 0, "httpd/unix-directory")));  // Nextcloud
  EXPECT_TRUE(IsDirectoryObject(Object("a", {{"mode", "16877"}}, 0)));  // old s3fs dir object
  EXPECT_FALSE(IsDirectoryObject(Object("a", {}, 0, "application/octet-stream")));
  EXPECT_FALSE(IsDirectoryObject(Object("a", {}, 0, "application/x-directoryish")));
  EXPECT_FALSE(IsDirectoryObject(Object("a", {{"mode", "33188"}}, 0)));
}

TEST(SymlinkTest, OnlyTheModeMakesASymlink) {
  EXPECT_TRUE(IsSymlink(Object("l", {{"mode", "41471"}}, 4)));
  EXPECT_TRUE(IsSymlink(Object("l", {{"mode", "0120777"}}, 4)));
  EXPECT_FALSE(IsSymlink(Object("l", {{"mode", "511"}}, 4)));  // 0777, no type bits
  EXPECT_FALSE(IsSymlink(Object("l", {}, 4)));
  EXPECT_FALSE(IsSymlink(Object("l", {{"mode", "garbage"}}, 4)));
  EXPECT_FALSE(IsSymlink(Object("l/", {{"mode", "41471"}}, 0)));  // a marker is a directory
}

}  // namespace
}  // namespace s3mount
