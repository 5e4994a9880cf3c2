// Integration tests of the `s3mount` command as a user and mount(8) see it: option errors,
// --help/--version, the startup bucket/credential/endpoint/TLS check, mountpoint checks
// (missing, not empty, already mounted, dead), daemon mode, clean unmount on signals,
// `mount -t fuse.s3mount` and fstab lines, and allow_other/default_permissions for another
// user. Every test runs the built binary (never a shell string) and checks the exit code and
// the message; every mount a test makes is undone by MountpointDir even when it fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "tests/integration/mount_command_support.h"
#include "tests/support/free_port.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_data.h"
#include "tests/support/test_paths.h"

namespace s3mount {
namespace {

using testing::CommandResult;
using testing::EnvOverrides;
using testing::IsMounted;
using testing::MountpointDir;
using testing::ProcessAlive;
using testing::ReadFile;
using testing::RunCommand;
using testing::RunTool;
using testing::S3mountPidsFor;
using testing::S3mountProcess;
using testing::Subprocess;
using testing::TempDir;
using testing::WaitFor;

// ---------------------------------------------------------------------------------------------
// The command line, before any network or mount.

TEST(MountCommandLineTest, UnknownOptionFailsWithItsNameAndAHint) {
  CommandResult result = RunTool({S3mountProcess::Binary(), "bucket", "/tmp", "--frobnicate"});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("unknown option '--frobnicate'"), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("s3mount --help"), std::string::npos) << result.stderr_text;
}

TEST(MountCommandLineTest, UnknownDashOOptionIsRefused) {
  CommandResult result =
      RunTool({S3mountProcess::Binary(), "bucket", "/tmp", "-o", "frobnicate=1"});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("frobnicate"), std::string::npos) << result.stderr_text;
}

TEST(MountCommandLineTest, MalformedValueNamesTheOption) {
  CommandResult result = RunTool({S3mountProcess::Binary(), "bucket", "/tmp", "-o", "uid=abc"});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("uid"), std::string::npos) << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("abc"), std::string::npos) << result.stderr_text;
}

TEST(MountCommandLineTest, MissingMountpointIsReported) {
  CommandResult result = RunTool({S3mountProcess::Binary(), "bucket"});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("missing MOUNTPOINT"), std::string::npos) << result.stderr_text;
}

TEST(MountCommandLineTest, HelpListsEveryOptionGroupAndExitsZero) {
  CommandResult result = RunTool({S3mountProcess::Binary(), "--help"});
  EXPECT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.stdout_text.rfind("usage: ", 0), 0u) << result.stdout_text;
  for (const char* group : {"General:", "S3:", "Credentials", "Permissions:", "Caching:",
                            "Filtering", "Logging:", "FUSE and mount:"}) {
    EXPECT_NE(result.stdout_text.find(group), std::string::npos) << "no group " << group;
  }
  EXPECT_NE(result.stdout_text.find("endpoint=URL"), std::string::npos);
  EXPECT_EQ(result.stderr_text, "");
}

TEST(MountCommandLineTest, VersionNamesProgramAndFuseLibrary) {
  CommandResult result = RunTool({S3mountProcess::Binary(), "--version"});
  EXPECT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.stdout_text.rfind("s3mount ", 0), 0u) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("FUSE library version 3."), std::string::npos)
      << result.stdout_text;
}

// ---------------------------------------------------------------------------------------------
// Against moto without signature checks: startup checks, mountpoints, daemon mode, signals,
// mount(8), permissions.

class MountCommandTest : public testing::MotoTest {
 protected:
  EnvOverrides Keys() const {
    return {{"AWS_ACCESS_KEY_ID", server().access_key_id()},
            {"AWS_SECRET_ACCESS_KEY", server().secret_access_key()}};
  }
  std::vector<std::string> MountArgv(const std::string& source, const std::string& mountpoint,
                                     std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv = {S3mountProcess::Binary(), source, mountpoint, "-o",
                                     "endpoint=" + server().endpoint()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  // s3mount -f in a Subprocess, once the mount is live (nullptr and a failure otherwise).
  std::unique_ptr<Subprocess> StartForeground(const MountpointDir& dir) {
    auto process = Subprocess::Start({.argv = MountArgv(bucket(), dir.path(), {"-f"}),
                                      .env = Keys(),
                                      .log_path = dir.File("s3mount.log")});
    if (!process.ok()) {
      ADD_FAILURE() << process.error().ToString();
      return nullptr;
    }
    if (!WaitFor([&] { return IsMounted(dir.path()) || !(*process)->Running(); }) ||
        !IsMounted(dir.path())) {
      ADD_FAILURE() << "s3mount -f did not mount:\n" << (*process)->LogTail();
      return nullptr;
    }
    return std::move(process).value();
  }
  // Sends `signal` to a foreground s3mount and expects exit code 0 and no mount left.
  void ExpectCleanExitOn(int signal) {
    MountpointDir dir;
    std::unique_ptr<Subprocess> process = StartForeground(dir);
    ASSERT_NE(process, nullptr);
    ASSERT_EQ(kill(process->pid(), signal), 0);
    EXPECT_TRUE(WaitFor([&] { return !process->Running(); }))
        << "s3mount ignored signal " << signal << ":\n"
        << process->LogTail();
    const int status = process->Stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "wait status " << status << " after signal " << signal << ":\n"
        << process->LogTail();
    EXPECT_FALSE(IsMounted(dir.path())) << "signal " << signal << " left the mount behind";
  }
};

TEST_F(MountCommandTest, MissingBucketIsReportedBeforeMounting) {
  MountpointDir dir;
  CommandResult result = RunTool(MountArgv("no-such-bucket-anywhere", dir.path()), Keys());
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("bucket 'no-such-bucket-anywhere' does not exist"),
            std::string::npos)
      << result.stderr_text;
  EXPECT_FALSE(IsMounted(dir.path()));
}

// RunTool's own timeout turns a startup check that never gives up into a failure.
TEST_F(MountCommandTest, UnreachableEndpointFailsWithCannotReach) {
  MountpointDir dir;
  auto port = testing::PickFreePort();  // nothing listens there
  ASSERT_TRUE(port.ok()) << port.error().ToString();
  CommandResult result = RunTool({S3mountProcess::Binary(), bucket(), dir.path(), "-o",
                                  "endpoint=http://127.0.0.1:" + std::to_string(*port)},
                                 Keys());
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("cannot reach http://127.0.0.1:" + std::to_string(*port)),
            std::string::npos)
      << result.stderr_text;
  EXPECT_FALSE(IsMounted(dir.path()));
}

TEST_F(MountCommandTest, TlsToAPlainHttpPortIsATlsFailure) {
  MountpointDir dir;
  std::string endpoint = server().endpoint();
  endpoint.replace(0, 4, "https");
  CommandResult result = RunTool(
      {S3mountProcess::Binary(), bucket(), dir.path(), "-o", "endpoint=" + endpoint}, Keys());
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("TLS failure talking to " + endpoint), std::string::npos)
      << result.stderr_text;
}

TEST_F(MountCommandTest, SelfSignedCertificateIsRefusedAndCaBundleHintGiven) {
  MountpointDir dir;
  auto made =
      RunCommand({.argv = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                           dir.File("key.pem"), "-out", dir.File("cert.pem"), "-days", "2", "-subj",
                           "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"}});
  ASSERT_TRUE(made.ok() && made->ok()) << (made.ok() ? made->Describe() : made.error().ToString());
  auto port = testing::PickFreePort();
  ASSERT_TRUE(port.ok());
  auto stub =
      Subprocess::Start({.argv = {"python3", testing::SourceDir() + "/tests/tools/https_stub.py",
                                  std::to_string(*port), dir.File("cert.pem"), dir.File("key.pem")},
                         .log_path = dir.File("stub.log")});
  ASSERT_TRUE(stub.ok()) << stub.error().ToString();
  ASSERT_TRUE(WaitFor([&] { return (*stub)->LogTail().find("ready") != std::string::npos; }))
      << (*stub)->LogTail();
  const std::string endpoint = "https://127.0.0.1:" + std::to_string(*port);
  CommandResult result = RunTool(
      {S3mountProcess::Binary(), bucket(), dir.path(), "-o", "endpoint=" + endpoint}, Keys());
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("TLS failure talking to " + endpoint), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("ca_bundle="), std::string::npos) << result.stderr_text;
  EXPECT_FALSE(IsMounted(dir.path()));
}

TEST_F(MountCommandTest, MissingMountpointIsNamed) {
  MountpointDir dir;
  const std::string missing = dir.File("nowhere");
  CommandResult result = RunTool(MountArgv(bucket(), missing), Keys());
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("mountpoint '" + missing + "': No such file or directory"),
            std::string::npos)
      << result.stderr_text;
}

TEST_F(MountCommandTest, NonEmptyMountpointIsRefused) {
  MountpointDir dir;
  std::ofstream(dir.path() + "/precious.txt") << "keep me";
  CommandResult result = RunTool(MountArgv(bucket(), dir.path()), Keys());
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("mountpoint '" + dir.path() + "' is not empty"),
            std::string::npos)
      << result.stderr_text;
  EXPECT_FALSE(IsMounted(dir.path()));
  EXPECT_EQ(ReadFile(dir.path() + "/precious.txt"), "keep me");
  std::filesystem::remove(dir.path() + "/precious.txt");
}

TEST_F(MountCommandTest, SecondMountOnTheSameMountpointIsRefused) {
  auto first = S3mountProcess::Mount(server(), {.source = bucket()});
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  const std::string mountpoint = (*first)->mountpoint();
  CommandResult result = RunTool(MountArgv(bucket(), mountpoint), Keys());
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("mountpoint '" + mountpoint + "' is already mounted"),
            std::string::npos)
      << result.stderr_text;
  auto unmounted = (*first)->Unmount();
  ASSERT_TRUE(unmounted.ok()) << unmounted.error().ToString();
  EXPECT_EQ(*unmounted, 0) << (*first)->LogTail();
}

TEST_F(MountCommandTest, DeadMountpointIsDetachedAndMountedAgain) {
  ASSERT_TRUE(server().PutObject(bucket(), "hello.txt", "hello").ok());
  MountpointDir dir;
  std::unique_ptr<Subprocess> killed = StartForeground(dir);
  ASSERT_NE(killed, nullptr);
  ASSERT_EQ(kill(killed->pid(), SIGKILL), 0);
  ASSERT_TRUE(WaitFor([&] { return !killed->Running(); }));
  killed->Stop();
  struct stat st = {};
  ASSERT_NE(stat(dir.path().c_str(), &st), 0) << "the killed mount still answers";
  ASSERT_EQ(errno, ENOTCONN) << std::strerror(errno);

  CommandResult result = RunTool(MountArgv(bucket(), dir.path()), Keys());
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_NE(result.stderr_text.find("transport endpoint is not connected"), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("detaching it"), std::string::npos) << result.stderr_text;
  EXPECT_TRUE(IsMounted(dir.path()));
  EXPECT_EQ(ReadFile(dir.path() + "/hello.txt"), "hello");
  EXPECT_TRUE(RunTool({"fusermount3", "-u", dir.path()}).ok());
}

TEST_F(MountCommandTest, DaemonReturnsOnlyOnceMountedAndExitsOnUnmount) {
  ASSERT_TRUE(server().PutObject(bucket(), "a.txt", "daemon data").ok());
  MountpointDir dir;
  CommandResult result = RunTool(MountArgv(bucket(), dir.path()), Keys());
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_TRUE(IsMounted(dir.path())) << "s3mount returned before the mount was live";
  EXPECT_EQ(ReadFile(dir.path() + "/a.txt"), "daemon data");
  const std::vector<pid_t> daemons = S3mountPidsFor(dir.path());
  ASSERT_EQ(daemons.size(), 1u) << "expected one s3mount daemon serving " << dir.path();

  CommandResult unmount = RunTool({"fusermount3", "-u", dir.path()});
  EXPECT_TRUE(unmount.ok()) << unmount.Describe();
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(daemons[0]); }))
      << "the daemon kept running after fusermount3 -u";
  EXPECT_FALSE(IsMounted(dir.path()));
}

TEST_F(MountCommandTest, SigtermUnmountsCleanly) { ExpectCleanExitOn(SIGTERM); }

TEST_F(MountCommandTest, SigintUnmountsCleanly) { ExpectCleanExitOn(SIGINT); }

TEST_F(MountCommandTest, SighupUnmountsCleanly) { ExpectCleanExitOn(SIGHUP); }

// mount(8) removes PATH from the environment (util-linux sanitize_env; AWS_* variables pass),
// so mount.fuse3 finds `s3mount` only on /bin/sh's default PATH (/usr/local/sbin:/usr/local/
// bin:/usr/sbin:...), where `cmake --install` puts it. To run the build's binary without
// installing anything, `mount_argv` runs in a private mount namespace in which a tmpfs over
// /usr/local/sbin holds a link to it. The FUSE mount then lives in that namespace, kept alive
// by the s3mount daemon; the test looks at it through /proc/PID and nsenter.
CommandResult RunMount8(std::vector<std::string> mount_argv, EnvOverrides env) {
  std::vector<std::string> argv = {
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      std::string("mount -t tmpfs s3mount-test /usr/local/sbin && ") +
          "ln -s \"$1\" /usr/local/sbin/s3mount && shift && exec \"$@\"",
      "sh",
      S3mountProcess::Binary()};
  argv.insert(argv.end(), mount_argv.begin(), mount_argv.end());
  return RunTool(std::move(argv), std::move(env));
}

// The options field of `path` in the mount table of process `pid`, "" if not mounted there.
std::string MountOptionsIn(pid_t pid, const std::string& path) {
  std::istringstream mountinfo(ReadFile("/proc/" + std::to_string(pid) + "/mountinfo"));
  for (std::string line; std::getline(mountinfo, line);) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point, options;
    fields >> id >> parent >> device >> root >> mount_point >> options;
    if (mount_point == path) return options;
  }
  return "";
}

// Runs argv in the mount namespace of `pid`.
CommandResult RunIn(pid_t pid, std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"nsenter", "--target", std::to_string(pid), "--mount"});
  return RunTool(std::move(argv));
}

// Writes DIR/fstab with one line mounting `source` on dir.path() with _netdev,ro,allow_other and
// the server's keys in a passwd_file (mode 0600); returns its path.
std::string WriteFstab(const MountpointDir& dir, const testing::MotoServer& server,
                       const std::string& source) {
  const std::string passwd = dir.File("passwd-s3mount");
  std::ofstream(passwd) << server.access_key_id() << ":" << server.secret_access_key() << "\n";
  EXPECT_EQ(chmod(passwd.c_str(), 0600), 0);
  std::string fstab = dir.File("fstab");
  std::ofstream(fstab) << "# test fstab\n"
                       << source << " " << dir.path()
                       << " fuse.s3mount _netdev,ro,endpoint=" << server.endpoint()
                       << ",allow_other,passwd_file=" << passwd << " 0 0\n";
  return fstab;
}

TEST_F(MountCommandTest, MountTypeFuseS3mountWorksWithMount8AndUmount) {
  ASSERT_TRUE(server().PutObject(bucket(), "m.txt", "via mount(8)").ok());
  MountpointDir dir;
  CommandResult result = RunMount8({"mount", "-t", "fuse.s3mount", bucket(), dir.path(), "-o",
                                    "endpoint=" + server().endpoint()},
                                   Keys());
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  const std::vector<pid_t> daemons = S3mountPidsFor(dir.path());
  ASSERT_EQ(daemons.size(), 1u) << "expected one s3mount daemon serving " << dir.path();
  EXPECT_NE(MountOptionsIn(daemons[0], dir.path()), "") << "mount(8) returned before the mount";
  CommandResult read = RunIn(daemons[0], {"cat", dir.path() + "/m.txt"});
  EXPECT_EQ(read.exit_code, 0) << read.Describe();
  EXPECT_EQ(read.stdout_text, "via mount(8)");

  CommandResult unmount = RunIn(daemons[0], {"umount", dir.path()});
  EXPECT_TRUE(unmount.ok()) << unmount.Describe();
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(daemons[0]); }))
      << "the daemon kept running after umount";
}

TEST_F(MountCommandTest, FstabLineWithPrefixAndPasswdFileMounts) {
  ASSERT_TRUE(server().PutObject(bucket(), "pre/fstab.txt", "from fstab").ok());
  ASSERT_TRUE(server().PutObject(bucket(), "outside.txt", "not under the prefix").ok());
  MountpointDir dir;
  const std::string fstab = WriteFstab(dir, server(), bucket() + ":/pre");
  // No AWS_* variables: at boot there are none, the keys come from passwd_file.
  CommandResult result = RunMount8({"mount", "-T", fstab, dir.path()},
                                   {{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}});
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  const std::vector<pid_t> daemons = S3mountPidsFor(dir.path());
  ASSERT_EQ(daemons.size(), 1u) << "expected one s3mount daemon serving " << dir.path();
  const std::string options = MountOptionsIn(daemons[0], dir.path());
  EXPECT_EQ(options.rfind("ro,", 0), 0u) << "not mounted read-only: " << options;
  CommandResult read = RunIn(daemons[0], {"cat", dir.path() + "/fstab.txt"});
  EXPECT_EQ(read.exit_code, 0) << read.Describe();
  EXPECT_EQ(read.stdout_text, "from fstab");
  CommandResult outside = RunIn(daemons[0], {"stat", dir.path() + "/outside.txt"});
  EXPECT_NE(outside.exit_code, 0) << "a key outside the prefix is visible";

  CommandResult unmount = RunIn(daemons[0], {"umount", dir.path()});
  EXPECT_TRUE(unmount.ok()) << unmount.Describe();
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(daemons[0]); }))
      << "the daemon kept running after umount";
}

// Reads `path` as user nobody (65534) with no groups: the CommandResult of cat.
CommandResult CatAsNobody(const std::string& path) {
  return RunTool({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", path});
}

TEST_F(MountCommandTest, OtherUsersReadOnlyWithAllowOther) {
  ASSERT_TRUE(server().PutObject(bucket(), "shared.txt", "for everyone").ok());
  auto with = S3mountProcess::Mount(server(), {.source = bucket(), .options = {"allow_other"}});
  ASSERT_TRUE(with.ok()) << with.error().ToString();
  ASSERT_EQ(chmod(std::filesystem::path((*with)->mountpoint()).parent_path().c_str(), 0755), 0);
  CommandResult allowed = CatAsNobody((*with)->Path("shared.txt"));
  EXPECT_EQ(allowed.exit_code, 0) << allowed.Describe();
  EXPECT_EQ(allowed.stdout_text, "for everyone");
  with->reset();

  auto without = S3mountProcess::Mount(server(), {.source = bucket()});
  ASSERT_TRUE(without.ok()) << without.error().ToString();
  ASSERT_EQ(chmod(std::filesystem::path((*without)->mountpoint()).parent_path().c_str(), 0755), 0);
  CommandResult refused = CatAsNobody((*without)->Path("shared.txt"));
  EXPECT_NE(refused.exit_code, 0) << "another user read a mount without allow_other";
  EXPECT_NE(refused.stderr_text.find("Permission denied"), std::string::npos) << refused.Describe();
}

TEST_F(MountCommandTest, DefaultPermissionsChecksModesForOtherUsers) {
  ASSERT_TRUE(server().PutObject(bucket(), "private.txt", "owner only").ok());
  auto mount = S3mountProcess::Mount(
      server(),
      {.source = bucket(), .options = {"allow_other", "default_permissions", "file_mode=0600"}});
  ASSERT_TRUE(mount.ok()) << mount.error().ToString();
  ASSERT_EQ(chmod(std::filesystem::path((*mount)->mountpoint()).parent_path().c_str(), 0755), 0);
  CommandResult refused = CatAsNobody((*mount)->Path("private.txt"));
  EXPECT_NE(refused.exit_code, 0) << "default_permissions let nobody read a 0600 file";
  EXPECT_NE(refused.stderr_text.find("Permission denied"), std::string::npos) << refused.Describe();
  EXPECT_EQ(ReadFile((*mount)->Path("private.txt")), "owner only");  // root may
}

// ---------------------------------------------------------------------------------------------
// Against moto with SigV4 enforced: wrong credentials are refused before mounting.

class MountCommandAuthTest : public testing::AuthMotoTest {
 protected:
  CommandResult MountWith(const std::string& key_id, const std::string& secret,
                          const MountpointDir& dir) {
    return RunTool(
        {S3mountProcess::Binary(), bucket(), dir.path(), "-o", "endpoint=" + server().endpoint()},
        {{"AWS_ACCESS_KEY_ID", key_id}, {"AWS_SECRET_ACCESS_KEY", secret}});
  }
};

TEST_F(MountCommandAuthTest, WrongSecretIsReported) {
  MountpointDir dir;
  CommandResult result = MountWith(server().access_key_id(), "wrong-secret-value", dir);
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("the secret access key is wrong"), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("SignatureDoesNotMatch"), std::string::npos)
      << result.stderr_text;
  EXPECT_EQ(result.stderr_text.find("wrong-secret-value"), std::string::npos)
      << "the secret was printed";
  EXPECT_FALSE(IsMounted(dir.path()));
}

TEST_F(MountCommandAuthTest, UnknownAccessKeyIdIsReported) {
  MountpointDir dir;
  CommandResult result = MountWith("AKIAUNKNOWNKEY000000", server().secret_access_key(), dir);
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.stderr_text.find("does not know the access key ID"), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("InvalidAccessKeyId"), std::string::npos) << result.stderr_text;
  EXPECT_FALSE(IsMounted(dir.path()));
}

TEST_F(MountCommandAuthTest, RightKeysMount) {
  MountpointDir dir;
  CommandResult result = MountWith(server().access_key_id(), server().secret_access_key(), dir);
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_TRUE(IsMounted(dir.path()));
  EXPECT_TRUE(RunTool({"fusermount3", "-u", dir.path()}).ok());
}

TEST_F(MountCommandAuthTest, KeysAsOptionsSignAndAreHiddenFromTheProcessList) {
  MountpointDir dir;
  const std::string secret = server().secret_access_key();
  CommandResult result = RunTool(
      {S3mountProcess::Binary(), bucket(), dir.path(), "-o", "endpoint=" + server().endpoint(),
       "-o", "access_key_id=" + server().access_key_id() + ",secret_access_key=" + secret},
      {{"AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000"}, {"AWS_SECRET_ACCESS_KEY", "not-it"}});
  ASSERT_EQ(result.exit_code, 0) << "the option keys must win: " << result.Describe();
  const std::vector<pid_t> daemons = S3mountPidsFor(dir.path());
  ASSERT_EQ(daemons.size(), 1u);
  const std::string cmdline = ReadFile("/proc/" + std::to_string(daemons[0]) + "/cmdline");
  EXPECT_NE(cmdline.find("secret_access_key=***"), std::string::npos) << cmdline;
  EXPECT_EQ(cmdline.find(secret), std::string::npos) << "the secret is visible to ps";
  EXPECT_TRUE(RunTool({"fusermount3", "-u", dir.path()}).ok());
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(daemons[0]); }));

  MountpointDir other;
  CommandResult wrong = RunTool(
      {S3mountProcess::Binary(), bucket(), other.path(), "-o", "endpoint=" + server().endpoint(),
       "-o",
       "access_key_id=" + server().access_key_id() + ",secret_access_key=wrong-secret-value"});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.Describe();
  EXPECT_NE(wrong.stderr_text.find("the secret access key is wrong"), std::string::npos)
      << wrong.stderr_text;
  EXPECT_EQ(wrong.stderr_text.find("wrong-secret-value"), std::string::npos);
}

// moto's signature checker rejects correctly signed listings with a prefix or delimiter (see
// docs/S3-CLIENT.md), so this fstab mount has no prefix and only the startup check (signed
// with the passwd_file keys) and the mount are checked.
TEST_F(MountCommandAuthTest, FstabMountSignsWithThePasswdFileKeys) {
  MountpointDir dir;
  const std::string fstab = WriteFstab(dir, server(), bucket());
  CommandResult result = RunMount8(
      {"mount", "-T", fstab, dir.path()},
      {{"AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000"}, {"AWS_SECRET_ACCESS_KEY", "not-the-secret"}});
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  const std::vector<pid_t> daemons = S3mountPidsFor(dir.path());
  ASSERT_EQ(daemons.size(), 1u) << "expected one s3mount daemon serving " << dir.path();
  EXPECT_NE(MountOptionsIn(daemons[0], dir.path()), "");
  CommandResult unmount = RunIn(daemons[0], {"umount", dir.path()});
  EXPECT_TRUE(unmount.ok()) << unmount.Describe();
  EXPECT_TRUE(WaitFor([&] { return !ProcessAlive(daemons[0]); }));
}

}  // namespace
}  // namespace s3mount
