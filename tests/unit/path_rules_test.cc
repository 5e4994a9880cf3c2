// Tests for names, key mapping, include/exclude filters and shadowing
// (s3mount/fs/path_rules.h).
#include "s3mount/fs/path_rules.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace s3mount {
namespace {

// --- Names -------------------------------------------------------------------------------------

TEST(IsRepresentableNameTest, AcceptsOrdinaryNames) {
  for (const char* name :
       {"a", "file.txt", ".hidden", "...", "..a", "a b", "\xc3\xbc", "-", "*?[", "\\", "a:b"}) {
    EXPECT_TRUE(IsRepresentableName(name)) << name;
  }
  EXPECT_TRUE(IsRepresentableName(std::string(255, 'x')));
}

TEST(IsRepresentableNameTest, RejectsWhatPosixCannotShow) {
  EXPECT_FALSE(IsRepresentableName(""));
  EXPECT_FALSE(IsRepresentableName("."));
  EXPECT_FALSE(IsRepresentableName(".."));
  EXPECT_FALSE(IsRepresentableName(std::string(256, 'x')));
  EXPECT_FALSE(IsRepresentableName(std::string("a\0b", 3)));
  EXPECT_FALSE(IsRepresentableName("a/b"));
  EXPECT_FALSE(IsRepresentableName("/"));
}

// --- Mount prefix and key mapping ------------------------------------------------------------

TEST(NormalizeMountPrefixTest, AcceptedForms) {
  struct Case {
    const char* input;
    const char* expected;
  };
  for (const Case& c : {Case{"", ""}, Case{"/", ""}, Case{"a", "a/"}, Case{"/a", "a/"},
                        Case{"a/", "a/"}, Case{"/a/", "a/"}, Case{"/some/prefix", "some/prefix/"},
                        Case{"some/prefix/", "some/prefix/"}, Case{".a/b..", ".a/b../"}}) {
    auto normalized = NormalizeMountPrefix(c.input);
    ASSERT_TRUE(normalized.ok()) << c.input << ": " << normalized.error().ToString();
    EXPECT_EQ(*normalized, c.expected) << c.input;
  }
}

TEST(NormalizeMountPrefixTest, Rejections) {
  for (const std::string& bad :
       {std::string("a//b"), std::string("//"), std::string("//a"), std::string("a//"),
        std::string(".."), std::string("a/../b"), std::string("./a"), std::string("a/."),
        std::string("a\0b", 3), std::string(256, 'x'), [] {
          std::string long_prefix;
          for (int i = 0; i < 103; ++i) long_prefix += "abcdefghi/";  // 1030 bytes
          return long_prefix;
        }()}) {
    auto normalized = NormalizeMountPrefix(bad);
    ASSERT_FALSE(normalized.ok()) << "accepted '" << bad << "' as '" << *normalized << "'";
    EXPECT_EQ(normalized.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(normalized.error().message.find("mount prefix"), std::string::npos);
  }
}

TEST(KeyMapperTest, WithoutPrefix) {
  const KeyMapper mapper("");
  EXPECT_EQ(mapper.prefix(), "");
  EXPECT_EQ(mapper.KeyFor(""), "");
  EXPECT_EQ(mapper.KeyFor("a/b.txt"), "a/b.txt");
  EXPECT_EQ(mapper.KeyFor("/a/b.txt"), "a/b.txt");
  EXPECT_EQ(mapper.RelativePathFor("a/b.txt"), "a/b.txt");
  EXPECT_EQ(mapper.RelativePathFor(""), "");
}

TEST(KeyMapperTest, WithPrefix) {
  const KeyMapper mapper("some/prefix/");
  EXPECT_EQ(mapper.KeyFor(""), "some/prefix/");  // the root's listing prefix
  EXPECT_EQ(mapper.KeyFor("a"), "some/prefix/a");
  EXPECT_EQ(mapper.KeyFor("a") + "/", "some/prefix/a/");  // a's marker
  EXPECT_EQ(mapper.KeyFor("d/e f"), "some/prefix/d/e f");
  EXPECT_EQ(mapper.RelativePathFor("some/prefix/d/e f"), "d/e f");
  EXPECT_EQ(mapper.RelativePathFor("some/prefix/d/"), "d/");
  EXPECT_EQ(mapper.RelativePathFor("some/prefix/"), "");
  EXPECT_EQ(mapper.RelativePathFor("some/prefix"), std::nullopt);
  EXPECT_EQ(mapper.RelativePathFor("some/prefixed/a"), std::nullopt);
  EXPECT_EQ(mapper.RelativePathFor("other/a"), std::nullopt);
  for (const char* path : {"x", "x/y", "x/y/", "a b/c"}) {
    EXPECT_EQ(mapper.RelativePathFor(mapper.KeyFor(path)), path);
  }
}

// --- Filters --------------------------------------------------------------------------------

PathFilter MakeFilter(std::vector<std::string> includes, std::vector<std::string> excludes) {
  auto filter = PathFilter::Create(std::move(includes), std::move(excludes));
  EXPECT_TRUE(filter.ok()) << filter.error().ToString();
  return filter.ok() ? std::move(filter).value() : PathFilter();
}

TEST(PathFilterTest, NoPatternsShowsEverything) {
  const PathFilter filter = MakeFilter({}, {});
  EXPECT_TRUE(filter.empty());
  EXPECT_TRUE(filter.IsVisible("", true));
  EXPECT_TRUE(filter.IsVisible("a/b/c", false));
  EXPECT_TRUE(filter.IsVisible(".git", true));
}

TEST(PathFilterTest, PatternWithoutSlashMatchesLastComponentAtAnyDepth) {
  const PathFilter filter = MakeFilter({}, {"*.tmp", ".git"});
  EXPECT_FALSE(filter.IsVisible("x.tmp", false));
  EXPECT_FALSE(filter.IsVisible("a/b/x.tmp", false));
  EXPECT_TRUE(filter.IsVisible("a/b/x.tmp.keep", false));
  EXPECT_TRUE(filter.IsVisible("x.tmpl", false));
  // An excluded directory hides everything below it.
  EXPECT_FALSE(filter.IsVisible(".git", true));
  EXPECT_FALSE(filter.IsVisible("src/.git", true));
  EXPECT_FALSE(filter.IsVisible("src/.git/objects/ab/cdef", false));
  EXPECT_TRUE(filter.IsVisible("src/.gitignore", false));
  // ...and a directory matching a file pattern hides its contents too.
  EXPECT_FALSE(filter.IsVisible("cache.tmp/data", false));
}

TEST(PathFilterTest, PatternWithSlashMatchesTheWholePath) {
  const PathFilter filter = MakeFilter({}, {"logs/*.log", "/build"});
  EXPECT_FALSE(filter.IsVisible("logs/a.log", false));
  EXPECT_TRUE(filter.IsVisible("logs/old/a.log", false));  // '*' does not cross '/'
  EXPECT_TRUE(filter.IsVisible("app/logs/a.log", false));  // anchored at the mount root
  EXPECT_FALSE(filter.IsVisible("build", true));
  EXPECT_FALSE(filter.IsVisible("build/out.o", false));
  EXPECT_TRUE(filter.IsVisible("src/build", true));  // leading '/' anchors
}

TEST(PathFilterTest, QuestionMarkAndBracketsStayInOneComponent) {
  const PathFilter filter = MakeFilter({}, {"a?b", "x[0-9]", "n[!a-z]", "c/[[:digit:]]*"});
  EXPECT_FALSE(filter.IsVisible("aXb", false));
  EXPECT_TRUE(filter.IsVisible("a/b", false));  // '?' never matches '/'
  EXPECT_FALSE(filter.IsVisible("x7", false));
  EXPECT_TRUE(filter.IsVisible("xa", false));
  EXPECT_FALSE(filter.IsVisible("n1", false));
  EXPECT_TRUE(filter.IsVisible("nb", false));
  EXPECT_FALSE(filter.IsVisible("c/9lives", false));
  EXPECT_TRUE(filter.IsVisible("c/lives", false));
}

TEST(PathFilterTest, DoubleStarCrossesDirectories) {
  const PathFilter filter = MakeFilter({}, {"a/**/b", "**/secret", "data/**"});
  EXPECT_FALSE(filter.IsVisible("a/b", false));  // zero directories
  EXPECT_FALSE(filter.IsVisible("a/x/b", false));
  EXPECT_FALSE(filter.IsVisible("a/x/y/z/b", false));
  EXPECT_TRUE(filter.IsVisible("a/x/c", false));
  EXPECT_TRUE(filter.IsVisible("z/a/x/b", false));
  EXPECT_FALSE(filter.IsVisible("secret", false));
  EXPECT_FALSE(filter.IsVisible("p/q/secret", true));
  EXPECT_FALSE(filter.IsVisible("data/x", false));
  EXPECT_FALSE(filter.IsVisible("data/x/y/z", false));
  // `data/**` matches "data" itself too (zero components), hiding the directory.
  EXPECT_FALSE(filter.IsVisible("data", true));
  EXPECT_TRUE(filter.IsVisible("database", true));
}

TEST(PathFilterTest, DoubleStarInsideAComponentIsAStar) {
  const PathFilter filter = MakeFilter({}, {"/x**y"});
  EXPECT_FALSE(filter.IsVisible("xaby", false));
  EXPECT_TRUE(filter.IsVisible("xa/by", false));
}

TEST(PathFilterTest, ManyDoubleStarsStayFast) {
  const PathFilter filter = MakeFilter({}, {"**/a/**/a/**/a/**/a/**/a/**/a/**/b"});
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "a/";
  deep += "c";
  EXPECT_TRUE(filter.IsVisible(deep, false));  // would take forever if exponential
}

TEST(PathFilterTest, TrailingSlashMatchesDirectoriesOnly) {
  const PathFilter filter = MakeFilter({}, {"tmp/"});
  EXPECT_FALSE(filter.IsVisible("tmp", true));
  EXPECT_FALSE(filter.IsVisible("x/tmp", true));
  EXPECT_FALSE(filter.IsVisible("x/tmp/file", false));
  EXPECT_TRUE(filter.IsVisible("tmp", false));  // a file called tmp stays
  EXPECT_TRUE(filter.IsVisible("x/tmp", false));
}

TEST(PathFilterTest, EscapesAndDotfiles) {
  const PathFilter filter = MakeFilter({}, {"\\*literal", "*"});
  EXPECT_FALSE(filter.IsVisible(".dotfile", false));  // '*' matches a leading dot
  const PathFilter literal = MakeFilter({}, {"\\*literal"});
  EXPECT_FALSE(literal.IsVisible("*literal", false));
  EXPECT_TRUE(literal.IsVisible("xliteral", false));
}

TEST(PathFilterTest, IncludesRestrictFilesButKeepDirectoriesReachable) {
  const PathFilter filter = MakeFilter({"*.jpg", "/docs/"}, {});
  EXPECT_TRUE(filter.IsVisible("a.jpg", false));
  EXPECT_TRUE(filter.IsVisible("x/y/a.jpg", false));
  EXPECT_FALSE(filter.IsVisible("a.png", false));
  EXPECT_FALSE(filter.IsVisible("x/y/a.png", false));
  EXPECT_TRUE(filter.IsVisible("x", true));
  EXPECT_TRUE(filter.IsVisible("x/y", true));
  // An included directory includes everything below it.
  EXPECT_TRUE(filter.IsVisible("docs/readme.md", false));
  EXPECT_TRUE(filter.IsVisible("docs/deep/er/notes.txt", false));
  EXPECT_FALSE(filter.IsVisible("other/docs/readme.md", false));  // anchored
  // Includes never make a path hidden just for being a directory.
  EXPECT_TRUE(filter.IsVisible("a.png.d", true));
}

TEST(PathFilterTest, ExcludesWinOverIncludes) {
  const PathFilter filter = MakeFilter({"*.jpg"}, {"private", "*.raw.jpg"});
  EXPECT_TRUE(filter.IsVisible("a.jpg", false));
  EXPECT_FALSE(filter.IsVisible("a.raw.jpg", false));
  EXPECT_FALSE(filter.IsVisible("private", true));
  EXPECT_FALSE(filter.IsVisible("private/a.jpg", false));
  EXPECT_FALSE(filter.IsVisible("x/private/a.jpg", false));
}

TEST(PathFilterTest, RootIsAlwaysVisibleAndSlashesAreTolerated) {
  const PathFilter filter = MakeFilter({"*.jpg"}, {"*"});
  EXPECT_TRUE(filter.IsVisible("", true));
  EXPECT_TRUE(filter.IsVisible("/", true));
  EXPECT_FALSE(filter.IsVisible("/a.jpg", false));
  const PathFilter dirs = MakeFilter({}, {"d/"});
  EXPECT_FALSE(dirs.IsVisible("d/", true));
}

TEST(PathFilterTest, InvalidPatternsAreNamed) {
  for (const std::string& bad :
       {std::string(""), std::string("/"), std::string("//"), std::string("a//b"),
        std::string("a/../b"), std::string("./a"), std::string("a/."), std::string("[abc"),
        std::string("x[!"), std::string("[[:alpha:]"), std::string("a\\"),
        std::string("a\0b", 3)}) {
    auto filter = PathFilter::Create({"ok*"}, {bad});
    ASSERT_FALSE(filter.ok()) << "accepted exclude '" << bad << "'";
    EXPECT_EQ(filter.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(filter.error().message.find("exclude pattern '" + bad + "'"), std::string::npos)
        << filter.error().message;
    filter = PathFilter::Create({bad}, {});
    ASSERT_FALSE(filter.ok()) << "accepted include '" << bad << "'";
    EXPECT_NE(filter.error().message.find("include pattern '" + bad + "'"), std::string::npos)
        << filter.error().message;
  }
  // Valid bracket forms.
  for (const char* good : {"[]]", "[!]]", "[^a]", "[[:alpha:]]x", "a[\\]]b", "**", "/**/x"}) {
    EXPECT_TRUE(PathFilter::Create({}, {good}).ok()) << good;
  }
}

// --- Shadowing --------------------------------------------------------------------------------

}  // namespace
}  // namespace s3mount
