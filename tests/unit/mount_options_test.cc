// Tests for the s3mount command line: argv in (ParseMountArguments, through libfuse's
// fuse_opt_parse), MountConfig out (ValidateMountConfig), and an error naming the option for
// everything malformed.
#include "app/mount_options.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

namespace s3mount {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Result<RawMountOptions> Parse(const std::vector<std::string>& args) {
  std::vector<const char*> argv = {"s3mount"};
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  argv.push_back(nullptr);
  return ParseMountArguments(static_cast<int>(argv.size() - 1), argv.data());
}

Result<MountConfig> Mount(const std::vector<std::string>& args) {
  auto raw = Parse(args);
  if (!raw.ok()) return std::move(raw).error();
  return ValidateMountConfig(std::move(raw).value());
}

MountConfig MustMount(const std::vector<std::string>& args) {
  auto config = Mount(args);
  EXPECT_TRUE(config.ok()) << config.error().message;
  return config.ok() ? std::move(config).value() : MountConfig{};
}

// The error message, or "" when `args` was accepted.
std::string ErrorOf(const std::vector<std::string>& args) {
  auto config = Mount(args);
  if (config.ok()) return "";
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument) << config.error().message;
  return config.error().message;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

class MountOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
  }
};

TEST_F(MountOptionsTest, MinimalCommandLineGivesTheDefaults) {
  MountConfig c = MustMount({"my-bucket", "/mnt/x"});
  EXPECT_EQ(c.bucket, "my-bucket");
  EXPECT_EQ(c.s3.bucket, "my-bucket");
  EXPECT_EQ(c.prefix, "");
  EXPECT_EQ(c.mountpoint, "/mnt/x");
  EXPECT_EQ(c.s3.endpoint.region, "us-east-1");
  EXPECT_FALSE(c.region_set);
  EXPECT_EQ(c.credentials.source, CredentialsSource::kDefault);
  EXPECT_EQ(c.attributes.uid, getuid());
  EXPECT_EQ(c.attributes.gid, getgid());
  EXPECT_EQ(c.attributes.file_permissions, 0644U);
  EXPECT_EQ(c.attributes.dir_permissions, 0755U);
  EXPECT_EQ(c.attributes.umask, 0U);
  EXPECT_EQ(c.stat_ttl, seconds(60));
  EXPECT_EQ(c.negative_ttl, seconds(5));
  EXPECT_EQ(c.list_ttl, seconds(60));
  EXPECT_EQ(c.cache_bytes, uint64_t{256} << 20);
  EXPECT_FALSE(c.read_only || c.allow_other || c.allow_root || c.default_permissions);
  EXPECT_FALSE(c.foreground || c.debug || c.single_threaded);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.fuse_options, (std::vector<std::string>{"fsname=my-bucket", "subtype=s3mount"}));
}

TEST_F(MountOptionsTest, PrefixForms) {
  struct Case {
    std::string source, bucket, prefix;
  };
  for (const Case& c : std::vector<Case>{{"bucket", "bucket", ""},
                                         {"bucket:", "bucket", ""},
                                         {"bucket:/", "bucket", ""},
                                         {"bucket:/a", "bucket", "a/"},
                                         {"bucket:/a/b", "bucket", "a/b/"},
                                         {"bucket:/a/b/", "bucket", "a/b/"},
                                         {"bucket:a/b", "bucket", "a/b/"},
                                         {"s3://bucket", "bucket", ""},
                                         {"s3://bucket/a/b/", "bucket", "a/b/"}}) {
    MountConfig config = MustMount({c.source, "/mnt/x"});
    EXPECT_EQ(config.bucket, c.bucket) << c.source;
    EXPECT_EQ(config.prefix, c.prefix) << c.source;
    EXPECT_EQ(config.fuse_options.front(), "fsname=" + c.source);
  }
}

TEST_F(MountOptionsTest, BadPrefixesAreRefused) {
  for (const std::string source : {"bucket:/a//b", "bucket:/a/../b", "bucket:/./a", "bucket://"}) {
    EXPECT_NE(ErrorOf({source, "/mnt/x"}).find("prefix '"), std::string::npos) << source;
  }
}

TEST_F(MountOptionsTest, BadBucketNamesAreRefusedByName) {
  for (const std::string& bucket :
       std::vector<std::string>{"ab", "-abc", "abc-", "a..b", "my bucket", "bu$ket", "192.168.1.1",
                                std::string(256, 'a')}) {
    EXPECT_NE(ErrorOf({"--", bucket + ":/p", "/mnt/x"}).find("bucket name '" + bucket + "'"),
              std::string::npos)
        << bucket;
  }
  EXPECT_EQ(ErrorOf({":/prefix", "/mnt/x"}), "missing bucket name");
  // Legacy names that path-style addressing still reaches are accepted.
  EXPECT_EQ(MustMount({"Legacy_Bucket", "/mnt/x"}).bucket, "Legacy_Bucket");
}

TEST_F(MountOptionsTest, VirtualHostedReachesTheConfig) {
  MountConfig c =
      MustMount({"bucket", "/mnt/x", "-o", "endpoint=http://minio:9000,virtual_hosted"});
  EXPECT_TRUE(c.s3.endpoint.force_virtual_hosted);
  EXPECT_FALSE(c.s3.endpoint.force_path_style);
}

TEST_F(MountOptionsTest, EveryOptionReachesTheConfig) {
  MountConfig c = MustMount(
      {"bucket:/data/", "/mnt/x", "-o",
       "endpoint=http://127.0.0.1:9000,region=eu-west-1,path_style,profile=dev,ro,"
       "allow_other,default_permissions,uid=1001,gid=1002,umask=022,file_mode=0600,"
       "dir_mode=700,stat_ttl=1.5,negative_ttl=0,list_ttl=0.25,cache_size=1G,"
       "include=*.jpg,include=*.png,exclude=tmp/*,log_level=warn,log_file=/var/log/s3.log,"
       "ca_bundle=/etc/ca.pem,no_verify_tls,max_threads=32,readahead=4M,auto_unmount,"
       "dir_readahead=0"});
  EXPECT_EQ(c.s3.endpoint.endpoint_url, "http://127.0.0.1:9000");
  EXPECT_EQ(c.s3.endpoint.region, "eu-west-1");
  EXPECT_TRUE(c.region_set);
  EXPECT_TRUE(c.s3.endpoint.force_path_style);
  EXPECT_EQ(c.credentials.source, CredentialsSource::kProfile);
  EXPECT_EQ(c.credentials.profile, "dev");
  EXPECT_TRUE(c.read_only);
  EXPECT_TRUE(c.allow_other);
  EXPECT_TRUE(c.default_permissions);
  EXPECT_EQ(c.attributes.uid, 1001U);
  EXPECT_EQ(c.attributes.gid, 1002U);
  EXPECT_EQ(c.attributes.umask, 022U);
  EXPECT_EQ(c.attributes.file_permissions, 0600U);
  EXPECT_EQ(c.attributes.dir_permissions, 0700U);
  EXPECT_EQ(c.stat_ttl, milliseconds(1500));
  EXPECT_EQ(c.negative_ttl, seconds(0));
  EXPECT_EQ(c.list_ttl, milliseconds(250));
  EXPECT_EQ(c.cache_bytes, uint64_t{1} << 30);
  EXPECT_EQ(c.include, (std::vector<std::string>{"*.jpg", "*.png"}));
  EXPECT_EQ(c.exclude, (std::vector<std::string>{"tmp/*"}));
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.log_file, "/var/log/s3.log");
  EXPECT_EQ(c.s3.http.ca_bundle, "/etc/ca.pem");
  EXPECT_FALSE(c.s3.http.verify_tls);
  EXPECT_EQ(c.max_threads, 32U);
  EXPECT_EQ(c.readahead_bytes, uint64_t{4} << 20);
  EXPECT_EQ(c.dir_readahead_files, 0U);
  EXPECT_EQ(c.fuse_options,
            (std::vector<std::string>{"fsname=bucket:/data/", "subtype=s3mount", "ro",
                                      "allow_other", "default_permissions", "auto_unmount"}));
}

TEST_F(MountOptionsTest, RepeatedDashOAndJoinedFormsAreTheSame) {
  MountConfig joined = MustMount({"bucket", "/mnt/x", "-o", "ro,uid=5,include=a*,include=b*"});
  MountConfig repeated = MustMount(
      {"bucket", "/mnt/x", "-o", "ro", "-o", "uid=5", "-oinclude=a*", "-o", "include=b*"});
  EXPECT_TRUE(repeated.read_only);
  EXPECT_EQ(repeated.attributes.uid, 5U);
  EXPECT_EQ(repeated.include, (std::vector<std::string>{"a*", "b*"}));
  EXPECT_EQ(repeated.fuse_options, joined.fuse_options);
  EXPECT_EQ(repeated.include, joined.include);
}

TEST_F(MountOptionsTest, OptionsMayComeBeforeThePositionalArguments) {
  MountConfig c = MustMount({"-o", "ro", "-f", "bucket:/p", "/mnt/x"});
  EXPECT_EQ(c.bucket, "bucket");
  EXPECT_EQ(c.prefix, "p/");
  EXPECT_TRUE(c.read_only);
  EXPECT_TRUE(c.foreground);
}

TEST_F(MountOptionsTest, LaterOptionWins) {
  EXPECT_FALSE(MustMount({"bucket", "/mnt/x", "-o", "ro,rw"}).read_only);
  EXPECT_TRUE(MustMount({"bucket", "/mnt/x", "-o", "rw", "-o", "ro"}).read_only);
  EXPECT_EQ(MustMount({"bucket", "/mnt/x", "-o", "uid=1,uid=2"}).attributes.uid, 2U);
}

TEST_F(MountOptionsTest, FstabOptionSetIsAccepted) {
  // What mount(8) -> mount.fuse3 hands us for a typical fstab line, plus the generic options.
  MountConfig c = MustMount(
      {"bucket:/prefix", "/mnt/x", "-o",
       "rw,_netdev,nofail,noauto,auto,user,users,nouser,defaults,dev,nodev,suid,nosuid,exec,"
       "noexec,atime,noatime,relatime,x-systemd.automount,"
       "x-systemd.requires=network-online.target,comment=managed-by-ansible,user=alice,"
       "fsname=s3-photos,subtype=s3mount,ro,endpoint=http://127.0.0.1:9000,allow_other"});
  EXPECT_TRUE(c.read_only);
  EXPECT_TRUE(c.allow_other);
  EXPECT_EQ(c.prefix, "prefix/");
  EXPECT_EQ(c.fuse_options[0], "fsname=s3-photos");
  EXPECT_EQ(c.fuse_options[1], "subtype=s3mount");
  for (const char* flag : {"dev", "nodev", "suid", "nosuid", "exec", "noexec", "noatime"}) {
    EXPECT_TRUE(Contains(c.fuse_options, flag)) << flag;
  }
  for (const char* ignored : {"_netdev", "nofail", "defaults", "atime", "relatime", "user"}) {
    EXPECT_FALSE(Contains(c.fuse_options, ignored)) << ignored;
  }
}

TEST_F(MountOptionsTest, FlagsAndDebug) {
  MountConfig plain = MustMount({"bucket", "/mnt/x", "-f", "-s"});
  EXPECT_TRUE(plain.foreground);
  EXPECT_TRUE(plain.single_threaded);
  EXPECT_FALSE(plain.debug);

  MountConfig debug = MustMount({"bucket", "/mnt/x", "-d"});
  EXPECT_TRUE(debug.debug);
  EXPECT_TRUE(debug.foreground);
  EXPECT_EQ(debug.log_level, "debug");
  EXPECT_EQ(debug.fuse_options.back(), "debug");

  EXPECT_EQ(MustMount({"bucket", "/mnt/x", "-d", "-o", "log_level=trace"}).log_level, "trace");
}

TEST_F(MountOptionsTest, HelpAndVersionNeedNoOtherArguments) {
  for (const std::string flag : {"-h", "--help"}) {
    auto raw = Parse({flag});
    ASSERT_TRUE(raw.ok()) << raw.error().message;
    EXPECT_TRUE(raw->help) << flag;
  }
  for (const std::string flag : {"-V", "--version"}) {
    auto raw = Parse({flag});
    ASSERT_TRUE(raw.ok()) << raw.error().message;
    EXPECT_TRUE(raw->version) << flag;
  }
  EXPECT_NE(MountVersionText().find("s3mount "), std::string::npos);
  EXPECT_NE(MountVersionText().find("FUSE library version 3."), std::string::npos);
}

// Which options --help lists is option_docs_test.cc's; here, its frame and groups.
TEST_F(MountOptionsTest, HelpTextListsTheOptionsByGroup) {
  const std::string help = MountHelpText("s3mount");
  EXPECT_EQ(help.rfind("usage: s3mount BUCKET[:/PREFIX] MOUNTPOINT", 0), 0U);
  size_t previous = 0;
  for (const char* group : {"General:", "S3:", "Credentials", "Permissions:", "Caching:",
                            "Writing:", "Change notifications", "Filtering",
                            "Logging:", "FUSE and mount:", "Options may be given as"}) {
    const size_t at = help.find(group);
    EXPECT_NE(at, std::string::npos) << group;
    EXPECT_GT(at, previous) << group << " is out of order";
    if (at != std::string::npos) previous = at;
  }
  EXPECT_NE(help.find("  -o endpoint=URL        S3-compatible endpoint"), std::string::npos)
      << "a short synopsis has its help beside it, from column 25";
  EXPECT_NE(help.find("  -o ro, -o rw           mount read-only"), std::string::npos)
      << "rows described together share a line";
}

TEST_F(MountOptionsTest, EveryErrorNamesTheOption) {
  struct Case {
    std::string option, message;
  };
  const std::vector<Case> cases = {
      {"foo", "unknown option 'foo'"},
      {"foo=bar", "unknown option 'foo=...'"},  // the value may be a mistyped secret
      {"uid=abc", "uid=abc: not a number"},
      {"uid=", "uid=: not a number"},
      {"gid=-1", "gid=-1: not a number"},
      {"uid=4294967295", "uid=4294967295: out of range"},
      {"uid", "option 'uid' needs a value"},
      {"ro=1", "option 'ro' takes no value"},
      {"umask=8", "umask=8: not an octal number"},
      {"umask=1777", "umask=1777: must be at most 0777"},
      {"file_mode=rw", "file_mode=rw: not an octal number"},
      {"dir_mode=17777", "dir_mode=17777: must be at most 07777"},
      {"stat_ttl=-1", "stat_ttl=-1: not a number of seconds"},
      {"negative_ttl=abc", "negative_ttl=abc: not a number of seconds"},
      {"list_ttl=inf", "list_ttl=inf: not a number of seconds"},
      {"stat_ttl=1e20", "stat_ttl=1e20: must be at most"},
      {"stat_ttl=5s", "stat_ttl=5s: not a number of seconds"},
      {"cache_size=12Q", "cache_size=12Q: not a size"},
      {"cache_size=-1M", "cache_size=-1M: not a size"},
      {"cache_size=2T", "cache_size=2T: must be at most 1024 GiB"},
      {"readahead=2G", "readahead=2G: must be at most 1 GiB"},
      {"max_threads=0", "max_threads=0: must be between 1 and 1024"},
      {"max_threads=x", "max_threads=x: not a number"},
      {"log_level=loud", "log_level=loud: not a log level"},
      {"region=eu/west", "region=eu/west: not a region name"},
      {"region=", "region=: must not be empty"},
      {"endpoint=ftp://x", "endpoint=ftp://x: "},
      {"endpoint=http://", "endpoint=http://: "},
      {"include=", "include=: must not be empty"},
      {"exclude=", "exclude=: must not be empty"},
      {"profile=", "profile=: must not be empty"},
      {"passwd_file=", "passwd_file=: must not be empty"},
      {"log_file=", "log_file=: must not be empty"},
      {"fsname=", "fsname=: must not be empty"},
      {"allow_other,allow_root", "allow_other and allow_root cannot be used together"},
      {"profile=a,passwd_file=/x", "profile= and passwd_file= cannot be used together"},
      {"anonymous,profile=a", "profile= and anonymous cannot be used together"},
  };
  for (const Case& c : cases) {
    const std::string message = ErrorOf({"bucket", "/mnt/x", "-o", c.option});
    EXPECT_EQ(message.rfind(c.message, 0), 0U) << "-o " << c.option << " gave '" << message << "'";
  }
}

TEST_F(MountOptionsTest, CommandLineErrorsNameTheArgument) {
  EXPECT_EQ(ErrorOf({"bucket", "/mnt/x", "-x"}), "unknown option '-x'");
  EXPECT_EQ(ErrorOf({"bucket", "/mnt/x", "--foreground"}), "unknown option '--foreground'");
  EXPECT_EQ(ErrorOf({"bucket", "/mnt/x", "extra"}), "unexpected argument 'extra'");
  EXPECT_EQ(ErrorOf({"bucket", "/mnt/x", "-o"}), "missing argument after '-o'");
  EXPECT_EQ(ErrorOf({"bucket"}), "missing MOUNTPOINT");
  EXPECT_EQ(ErrorOf({}), "missing BUCKET[:/PREFIX] and MOUNTPOINT");
  EXPECT_EQ(ErrorOf({"-f"}), "missing BUCKET[:/PREFIX] and MOUNTPOINT");
}

TEST_F(MountOptionsTest, EscapedCommaStaysInsideOneOption) {
  auto raw = Parse({"bucket", "/mnt/x", "-o", "fsname=a\\,b,ro"});
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  EXPECT_EQ(raw->options, (std::vector<std::string>{"fsname=a,b", "ro"}));
  auto config = ValidateMountConfig(std::move(raw).value());
  ASSERT_TRUE(config.ok()) << config.error().message;
  // Escaped again for fuse_session_new, which splits -o values the same way.
  EXPECT_EQ(config->fuse_options.front(), "fsname=a\\,b");
}

TEST_F(MountOptionsTest, DoubleDashEndsOptions) {
  MountConfig c = MustMount({"-o", "ro", "--", "bucket", "-odd-mountpoint"});
  EXPECT_TRUE(c.read_only);
  EXPECT_NE(c.mountpoint.find("/-odd-mountpoint"), std::string::npos);
}

TEST_F(MountOptionsTest, RelativeMountpointIsMadeAbsolute) {
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  const std::string base = std::string(cwd) == "/" ? "" : std::string(cwd);
  EXPECT_EQ(MustMount({"bucket", "mnt/x/"}).mountpoint, base + "/mnt/x");
  EXPECT_EQ(MustMount({"bucket", "/mnt/x//"}).mountpoint, "/mnt/x");
}

TEST(ScrubSecretArgumentsTest, HidesSecretValuesInPlaceAndNothingElse) {
  std::string program = "s3mount";
  std::string source = "bucket";
  std::string options = "-oro,secret_access_key=abc,access_key_id=AKIA,session_token=tok";
  std::string separate = "secret_access_key=xyz";
  std::vector<char*> argv = {program.data(), source.data(), options.data(), separate.data()};
  EXPECT_TRUE(ScrubSecretArguments(static_cast<int>(argv.size()), argv.data()));
  EXPECT_EQ(options, "-oro,secret_access_key=***,access_key_id=AKIA,session_token=***");
  EXPECT_EQ(separate, "secret_access_key=***");
  std::string plain = "-oro";
  std::vector<char*> none = {program.data(), plain.data()};
  EXPECT_FALSE(ScrubSecretArguments(static_cast<int>(none.size()), none.data()));
  EXPECT_EQ(plain, "-oro");
}

TEST(ScrubSecretArgumentsTest, HidesTheRedisPassword) {
  std::string program = "s3mount";
  std::string options = "-oredis_url=redis://:hunter2@cache:6379/2,redis_list=events";
  std::string acl = "redis_url=redis://mount:s3cret@cache";
  std::string open = "redis_url=redis://cache:6379";
  std::vector<char*> argv = {program.data(), options.data(), acl.data(), open.data()};
  EXPECT_TRUE(ScrubSecretArguments(static_cast<int>(argv.size()), argv.data()));
  EXPECT_EQ(options, "-oredis_url=redis://:*******@cache:6379/2,redis_list=events");
  EXPECT_EQ(acl, "redis_url=redis://mount:******@cache");
  EXPECT_EQ(open, "redis_url=redis://cache:6379");
}

}  // namespace
}  // namespace s3mount
