// Tests for ValidateMountConfig on RawMountOptions built by hand (no FUSE): value syntax
// (sizes, seconds, octal modes), region and credentials choice, paths made absolute, and the
// options handed to FUSE.
#include "app/mount_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace s3mount {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

class MountConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { ClearRegion(); }
  void TearDown() override { ClearRegion(); }
  static void ClearRegion() {
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
  }

  static Result<MountConfig> Validate(std::vector<std::string> options) {
    RawMountOptions raw;
    raw.source = "bucket";
    raw.mountpoint = "/mnt/x";
    raw.options = std::move(options);
    return ValidateMountConfig(std::move(raw));
  }
  static MountConfig MustValidate(std::vector<std::string> options) {
    auto config = Validate(std::move(options));
    EXPECT_TRUE(config.ok()) << config.error().message;
    return config.ok() ? std::move(config).value() : MountConfig{};
  }
  static std::string Cwd() {
    char cwd[4096];
    EXPECT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
    return std::string(cwd) == "/" ? "" : std::string(cwd);
  }
};

TEST_F(MountConfigTest, ByteSizes) {
  struct Case {
    std::string text;
    uint64_t bytes;
  };
  for (const Case& c : std::vector<Case>{{"0", 0},
                                         {"1048576", 1048576},
                                         {"1K", 1024},
                                         {"1k", 1024},
                                         {"1KiB", 1024},
                                         {"1KB", 1024},
                                         {"64m", uint64_t{64} << 20},
                                         {"1.5M", uint64_t{3} << 19},
                                         {"2G", uint64_t{2} << 30},
                                         {"1T", uint64_t{1} << 40},
                                         {"100B", 100}}) {
    EXPECT_EQ(MustValidate({"cache_size=" + c.text}).cache_bytes, c.bytes) << c.text;
  }
  for (const std::string bad : {"", "M", "1X", "1MM", "1Mi", "0x10", "nan", "+1", " 1"}) {
    EXPECT_FALSE(Validate({"cache_size=" + bad}).ok()) << bad;
  }
}

TEST_F(MountConfigTest, SecondsMayBeFractionalOrZero) {
  MountConfig c = MustValidate({"stat_ttl=0.001", "negative_ttl=0", "list_ttl=3600"});
  EXPECT_EQ(c.stat_ttl, milliseconds(1));
  EXPECT_EQ(c.negative_ttl, nanoseconds(0));
  EXPECT_EQ(c.list_ttl, seconds(3600));
  EXPECT_EQ(MustValidate({"stat_ttl=.5"}).stat_ttl, milliseconds(500));
  EXPECT_EQ(MustValidate({"stat_ttl=315360000"}).stat_ttl, seconds(315360000));
  EXPECT_FALSE(Validate({"stat_ttl=315360001"}).ok());
  EXPECT_FALSE(Validate({"stat_ttl=nan"}).ok());
}

TEST_F(MountConfigTest, ModesAreOctal) {
  MountConfig c = MustValidate({"file_mode=640", "dir_mode=0750", "umask=0027"});
  EXPECT_EQ(c.attributes.file_permissions, 0640U);
  EXPECT_EQ(c.attributes.dir_permissions, 0750U);
  EXPECT_EQ(c.attributes.umask, 027U);
  EXPECT_EQ(MustValidate({"file_mode=4755"}).attributes.file_permissions, 04755U);
  EXPECT_FALSE(Validate({"umask=0o22"}).ok());
}

TEST_F(MountConfigTest, UidAndGidDefaultToTheCaller) {
  MountConfig c = MustValidate({});
  EXPECT_EQ(c.attributes.uid, getuid());
  EXPECT_EQ(c.attributes.gid, getgid());
  EXPECT_EQ(MustValidate({"uid=0", "gid=4294967294"}).attributes.gid, 4294967294U);
}

TEST_F(MountConfigTest, RegionFromOptionThenEnvironmentThenDefault) {
  EXPECT_EQ(MustValidate({}).s3.endpoint.region, "us-east-1");
  EXPECT_FALSE(MustValidate({}).region_set);
  setenv("AWS_DEFAULT_REGION", "ap-south-1", 1);
  EXPECT_EQ(MustValidate({}).s3.endpoint.region, "ap-south-1");
  EXPECT_TRUE(MustValidate({}).region_set);
  setenv("AWS_REGION", "eu-central-1", 1);
  EXPECT_EQ(MustValidate({}).s3.endpoint.region, "eu-central-1");
  EXPECT_EQ(MustValidate({"region=us-west-2"}).s3.endpoint.region, "us-west-2");
}

TEST_F(MountConfigTest, KeysAsOptionsGoTogetherAndNeverShowInMessages) {
  MountConfig keys = MustValidate(
      {"access_key_id=AKIAEXAMPLE", "secret_access_key=s3cr3tvalue", "session_token=t0kenvalue"});
  EXPECT_EQ(keys.credentials.source, CredentialsSource::kOptions);
  EXPECT_EQ(keys.credentials.access_key_id, "AKIAEXAMPLE");
  EXPECT_EQ(keys.credentials.secret_access_key, "s3cr3tvalue");
  EXPECT_EQ(keys.credentials.session_token, "t0kenvalue");
  auto alone = Validate({"secret_access_key=s3cr3tvalue"});
  ASSERT_FALSE(alone.ok());
  EXPECT_NE(alone.error().message.find("access_key_id= and secret_access_key= go together"),
            std::string::npos)
      << alone.error().message;
  EXPECT_EQ(alone.error().message.find("s3cr3tvalue"), std::string::npos);
  auto both = Validate({"access_key_id=A", "secret_access_key=s3cr3tvalue", "profile=p"});
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.error().message.find("s3cr3tvalue"), std::string::npos);
  auto typo = Validate({"secret_acces_key=s3cr3tvalue"});
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.error().message.find("s3cr3tvalue"), std::string::npos) << typo.error().message;
  EXPECT_EQ(MustValidate({"public"}).credentials.source, CredentialsSource::kAnonymous);
}

TEST_F(MountConfigTest, CredentialsChoice) {
  EXPECT_EQ(MustValidate({}).credentials.source, CredentialsSource::kDefault);
  MountConfig profile = MustValidate({"profile=prod"});
  EXPECT_EQ(profile.credentials.source, CredentialsSource::kProfile);
  EXPECT_EQ(profile.credentials.profile, "prod");
  MountConfig passwd = MustValidate({"passwd_file=/etc/passwd-s3mount"});
  EXPECT_EQ(passwd.credentials.source, CredentialsSource::kPasswdFile);
  EXPECT_EQ(passwd.credentials.passwd_file, "/etc/passwd-s3mount");
  EXPECT_EQ(MustValidate({"anonymous"}).credentials.source, CredentialsSource::kAnonymous);
  EXPECT_FALSE(Validate({"anonymous", "passwd_file=/x"}).ok());
  MountConfig file = MustValidate({"credentials_file=/etc/s3mount/keys", "profile=rotating"});
  EXPECT_EQ(file.credentials.source, CredentialsSource::kProfile);
  EXPECT_EQ(file.credentials.credentials_file, "/etc/s3mount/keys");
  EXPECT_EQ(file.credentials.profile, "rotating");
  MountConfig file_only = MustValidate({"credentials_file=/k"});
  EXPECT_EQ(file_only.credentials.source, CredentialsSource::kProfile);
  EXPECT_EQ(file_only.credentials.profile, "") << "AWS_PROFILE or default, decided by main";
  EXPECT_FALSE(Validate({"credentials_file=/k", "passwd_file=/p"}).ok());
}

TEST_F(MountConfigTest, RoleArnAndStsEndpointOptions) {
  MountConfig role = MustValidate({"profile=base", "role_arn=arn:aws:iam::123456789012:role/x",
                                   "role_session_name=nightly", "external_id=ext",
                                   "sts_endpoint=https://sts.example.com"});
  EXPECT_EQ(role.credentials.source, CredentialsSource::kProfile);
  EXPECT_EQ(role.credentials.role_arn, "arn:aws:iam::123456789012:role/x");
  EXPECT_EQ(role.credentials.role_session_name, "nightly");
  EXPECT_EQ(role.credentials.external_id, "ext");
  EXPECT_EQ(role.credentials.sts_endpoint, "https://sts.example.com");
  auto not_arn = Validate({"role_arn=admin"});
  ASSERT_FALSE(not_arn.ok());
  EXPECT_EQ(not_arn.error().message,
            "role_arn=admin: not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");
  auto orphan = Validate({"external_id=ext"});
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().message, "external_id= needs role_arn=");
  auto anonymous = Validate({"public", "role_arn=arn:aws:iam::1:role/x"});
  ASSERT_FALSE(anonymous.ok());
  EXPECT_NE(anonymous.error().message.find("anonymous has none"), std::string::npos);
  EXPECT_FALSE(Validate({"sts_endpoint=sts.example.com"}).ok());
}

TEST_F(MountConfigTest, ChangeNotificationOptionsAndTheirLongerDefaultTtls) {
  MountConfig plain = MustValidate({});
  EXPECT_FALSE(plain.events.enabled());
  EXPECT_EQ(plain.stat_ttl, std::chrono::seconds(60));
  MountConfig sqs = MustValidate(
      {"sqs_queue_url=https://sqs.eu-west-1.amazonaws.com/123456789012/q", "list_ttl=30"});
  EXPECT_TRUE(sqs.events.enabled());
  EXPECT_EQ(sqs.stat_ttl, kEventDrivenTtl);
  EXPECT_EQ(sqs.negative_ttl, kEventDrivenTtl);
  EXPECT_EQ(sqs.list_ttl, std::chrono::seconds(30)) << "an explicit TTL wins";
  MountConfig redis = MustValidate({"redis_url=redis://cache:6379", "redis_list=bucketevents"});
  EXPECT_EQ(redis.events.redis_list, "bucketevents");
  EXPECT_EQ(redis.stat_ttl, kEventDrivenTtl);
  for (const auto& [options, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"redis_url=redis://c", "sqs_queue_url=http://q/1/q", "redis_channel=x"},
            "sqs_queue_url= and redis_url= cannot be used together"},
           {{"redis_url=redis://c"},
            "redis_url= needs exactly one of redis_channel= (SUBSCRIBE) and redis_list= "
            "(MinIO's access format)"},
           {{"redis_channel=x"}, "redis_channel= needs redis_url="},
           {{"sqs_region=eu-west-1"}, "sqs_region= needs sqs_queue_url="},
           {{"redis_url=http://c"}, "redis_url=http://c: must be a redis:// URL"}}) {
    auto config = Validate(options);
    ASSERT_FALSE(config.ok()) << options.front();
    EXPECT_EQ(config.error().message, message);
  }
}

TEST_F(MountConfigTest, RelativePathsAreMadeAbsolute) {
  // The daemon changes to / when it goes to the background; relative paths would break.
  MountConfig c = MustValidate({"passwd_file=creds", "log_file=logs/s3.log", "ca_bundle=ca.pem"});
  EXPECT_EQ(c.credentials.passwd_file, Cwd() + "/creds");
  EXPECT_EQ(c.log_file, Cwd() + "/logs/s3.log");
  EXPECT_EQ(c.s3.http.ca_bundle, Cwd() + "/ca.pem");
}

TEST_F(MountConfigTest, FuseOptionsInOrderAndEscaped) {
  MountConfig c = MustValidate({"fsname=a,b\\c", "subtype=s3", "allow_root", "ro",
                                "default_permissions", "noexec", "nosuid"});
  EXPECT_EQ(c.fuse_options,
            (std::vector<std::string>{"fsname=a\\,b\\\\c", "subtype=s3", "ro", "allow_root",
                                      "default_permissions", "noexec", "nosuid"}));
}

TEST_F(MountConfigTest, EndpointIsCheckedAgainstTheBucket) {
  EXPECT_TRUE(Validate({"endpoint=https://s3.example.com:8443/gw"}).ok());
  auto bad_port = Validate({"endpoint=http://host:99999"});
  ASSERT_FALSE(bad_port.ok());
  EXPECT_NE(bad_port.error().message.find("endpoint=http://host:99999: "), std::string::npos);
  EXPECT_NE(bad_port.error().message.find("port"), std::string::npos);
}

TEST_F(MountConfigTest, EmptyOptionsAreSkippedAndHelpIsIgnored) {
  RawMountOptions raw;
  raw.source = "bucket";
  raw.mountpoint = "/mnt/x";
  raw.options = {"", "ro", ""};
  raw.help = true;
  auto config = ValidateMountConfig(raw);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->read_only);
}

TEST_F(MountConfigTest, MessagesCarryNoProgramName) {
  auto error = Validate({"bogus"});
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().message, "unknown option 'bogus'");
  EXPECT_EQ(error.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(MountConfigTest, LogLevels) {
  for (const std::string level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    EXPECT_EQ(MustValidate({"log_level=" + level}).log_level, level);
  }
  EXPECT_EQ(MustValidate({"log_level=WARNING"}).log_level, "warn");
}

}  // namespace
}  // namespace s3mount
