// Tests for the test harness itself: Subprocess/RunCommand, MotoServer's life cycle (start,
// two at once, reset, failure to start, the process gone afterwards), SigV4 enforcement with
// the provisioned IAM user, and the MotoTest fixture's per-test buckets.
#include "tests/support/moto_server.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "tests/support/moto_fixture.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using testing::AuthMotoTest;
using testing::CommandOptions;
using testing::MotoOptions;
using testing::MotoServer;
using testing::MotoTest;
using testing::RunCommand;
using testing::Subprocess;
using testing::SubprocessOptions;
using testing::TempDir;

// True once `pid` no longer exists or is a zombie awaiting a reaper that is not us.
bool ProcessGone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  return !(stat >> pid_field >> comm >> state) || state == "Z";
}

bool EventuallyGone(pid_t pid) {
  auto deadline = steady_clock::now() + std::chrono::seconds(3);
  while (!ProcessGone(pid)) {
    if (steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return true;
}

// ---- Subprocess / RunCommand --------------------------------------------------------------

TEST(SubprocessTest, RunCommandCapturesOutputAndExitCode) {
  CommandOptions command;
  command.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  auto result = RunCommand(command);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_FALSE(result->ok());
  EXPECT_EQ(result->stdout_text, "out\n");
  EXPECT_EQ(result->stderr_text, "err\n");
}

TEST(SubprocessTest, RunCommandFeedsStdinAndEnvironment) {
  CommandOptions command;
  command.argv = {"sh", "-c", "cat; printf %s \"$S3M_TEST_VAR\""};
  command.stdin_data = std::string("in\0put", 6);
  command.env = {{"S3M_TEST_VAR", "-env"}};
  auto result = RunCommand(command);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_TRUE(result->ok()) << result->Describe();
  EXPECT_EQ(result->stdout_text, std::string("in\0put-env", 10));
}

TEST(SubprocessTest, RunCommandTimeoutKillsTheWholeGroup) {
  CommandOptions command;
  command.argv = {"sh", "-c", "sleep 30 & echo $! >&2; wait"};
  command.timeout = milliseconds(500);
  auto result = RunCommand(command);
  // Had the timeout been ignored, the command would have finished (after 30 s) without error.
  ASSERT_FALSE(result.ok()) << "a 30 s command finished within a 500 ms timeout";
  EXPECT_EQ(result.error().code, ErrorCode::kTimeout) << result.error().ToString();
  const std::string& message = result.error().message;
  auto at = message.find("stderr so far: ");
  ASSERT_NE(at, std::string::npos) << message;
  pid_t background = std::stoi(message.substr(at + 15));
  EXPECT_TRUE(EventuallyGone(background)) << "background child " << background << " survived";
}

TEST(SubprocessTest, MissingProgramIsAnError) {
  CommandOptions command;
  command.argv = {"/nonexistent/s3mount-no-such-program"};
  auto result = RunCommand(command);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("s3mount-no-such-program"), std::string::npos)
      << result.error().message;
}

TEST(SubprocessTest, LogsOutputAndStopsWithSigterm) {
  auto dir = TempDir::Create("s3mount-subprocess-test");
  ASSERT_TRUE(dir.ok()) << dir.error().ToString();
  SubprocessOptions options;
  options.argv = {"sh", "-c", "echo hello-log; exec sleep 30"};
  options.log_path = (*dir)->File("child.log");
  auto child = Subprocess::Start(options);
  ASSERT_TRUE(child.ok()) << child.error().ToString();
  auto deadline = steady_clock::now() + std::chrono::seconds(3);
  while ((*child)->LogTail().empty() && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ((*child)->LogTail(), "hello-log\n");
  EXPECT_TRUE((*child)->Running());
  int status = (*child)->Stop();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "wait status " << status;
  EXPECT_FALSE((*child)->Running());
  EXPECT_EQ((*child)->Stop(), -1) << "second Stop must be a no-op";
}

TEST(SubprocessTest, StopEscalatesToSigkillAndReaps) {
  auto dir = TempDir::Create("s3mount-subprocess-test");
  ASSERT_TRUE(dir.ok()) << dir.error().ToString();
  SubprocessOptions options;
  options.argv = {"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"};
  options.log_path = (*dir)->File("child.log");
  auto child = Subprocess::Start(options);
  ASSERT_TRUE(child.ok()) << child.error().ToString();
  auto deadline = steady_clock::now() + std::chrono::seconds(3);
  while ((*child)->LogTail().empty() && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  pid_t pid = (*child)->pid();
  auto start = steady_clock::now();
  int status = (*child)->Stop(milliseconds(300));
  auto took = steady_clock::now() - start;
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
  EXPECT_GE(took, milliseconds(300)) << "SIGKILL came before the grace period";
  child->reset();
  EXPECT_TRUE(ProcessGone(pid));
}

TEST(SubprocessTest, ChildDiesWithTheThreadThatStartedIt) {
  auto dir = TempDir::Create("s3mount-subprocess-test");
  ASSERT_TRUE(dir.ok()) << dir.error().ToString();
  std::unique_ptr<Subprocess> child;
  std::thread starter([&] {
    SubprocessOptions options;
    options.argv = {"sleep", "30"};
    options.log_path = (*dir)->File("child.log");
    auto started = Subprocess::Start(options);
    if (started.ok()) child = std::move(*started);
  });
  starter.join();
  ASSERT_NE(child, nullptr);
  auto deadline = steady_clock::now() + std::chrono::seconds(3);
  while (child->Running() && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_FALSE(child->Running()) << "child outlived the thread that started it";
  int status = child->Stop();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
}

// ---- MotoServer life cycle ----------------------------------------------------------------

TEST(MotoServerTest, StartsServesAndIsGoneAfterDestruction) {
  auto server = MotoServer::Start();
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  MotoServer& moto = **server;
  EXPECT_EQ(moto.endpoint(), "http://127.0.0.1:" + std::to_string(moto.port()));
  EXPECT_TRUE(moto.Running());
  EXPECT_EQ(moto.access_key_id(), "test");

  Status created = moto.CreateBucket("harness-bucket");
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  std::string data("binary\0data\xff", 12);
  Status put = moto.PutObject("harness-bucket", "dir/obj.bin", data);
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  auto got = moto.GetObject("harness-bucket", "dir/obj.bin");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, data);

  pid_t pid = moto.pid();
  server->reset();
  EXPECT_TRUE(ProcessGone(pid)) << "moto_server pid " << pid << " still alive";
}

TEST(MotoServerTest, TwoServersAtOnceAreIndependent) {
  auto a = MotoServer::Start();
  auto b = MotoServer::Start();
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_NE((*a)->port(), (*b)->port());
  ASSERT_TRUE((*a)->CreateBucket("only-in-a").ok());
  ASSERT_TRUE((*a)->PutObject("only-in-a", "k", "v").ok());
  auto from_b = (*b)->GetObject("only-in-a", "k");
  ASSERT_FALSE(from_b.ok()) << "server B sees server A's bucket";
  EXPECT_EQ(from_b.error().code, ErrorCode::kNotFound) << from_b.error().ToString();
}

TEST(MotoServerTest, ResetForgetsEverything) {
  auto server = MotoServer::Start();
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  ASSERT_TRUE((*server)->CreateBucket("reset-me").ok());
  ASSERT_TRUE((*server)->PutObject("reset-me", "k", "v").ok());
  Status reset = (*server)->Reset();
  ASSERT_TRUE(reset.ok()) << reset.error().ToString();
  auto got = (*server)->GetObject("reset-me", "k");
  ASSERT_FALSE(got.ok()) << "object survived Reset()";
  EXPECT_NE(got.error().message.find("NoSuchBucket"), std::string::npos) << got.error().message;
  EXPECT_TRUE((*server)->CreateBucket("reset-me").ok());
}

TEST(MotoServerTest, FailureToStartIsAnErrorWithTheReason) {
  MotoOptions missing;
  missing.python = "/nonexistent/python3";
  auto no_binary = MotoServer::Start(missing);
  ASSERT_FALSE(no_binary.ok());
  EXPECT_NE(no_binary.error().message.find("/nonexistent/python3"), std::string::npos)
      << no_binary.error().message;

  MotoOptions exits;
  exits.python = "false";  // starts, then exits at once
  auto dies = MotoServer::Start(exits);
  ASSERT_FALSE(dies.ok());
  EXPECT_NE(dies.error().message.find("exited during startup"), std::string::npos)
      << dies.error().message;
}

// ---- SigV4 enforcement ----------------------------------------------------------------------

class AuthMotoServerTest : public AuthMotoTest {};

TEST_F(AuthMotoServerTest, IamUserKeyIsAccepted) {
  EXPECT_TRUE(server().enforce_sigv4());
  EXPECT_EQ(server().access_key_id().rfind("AKIA", 0), 0u) << server().access_key_id();
  EXPECT_FALSE(server().secret_access_key().empty());
  Status put = server().PutObject(bucket(), "key", "signed");
  ASSERT_TRUE(put.ok()) << put.error().ToString();
  auto got = server().GetObject(bucket(), "key");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, "signed");
}

TEST_F(AuthMotoServerTest, WrongSecretIsRejected) {
  auto run = server().RunAdmin({"put-object", bucket(), "key"}, "data",
                               {{"AWS_SECRET_ACCESS_KEY", "wrong-secret"}});
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->exit_code, 2) << run->Describe();
  EXPECT_NE(run->stderr_text.find("SignatureDoesNotMatch"), std::string::npos) << run->Describe();
}

TEST_F(AuthMotoServerTest, UnknownKeyAndUnsignedRequestsAreRejected) {
  auto run = server().RunAdmin({"get-object", bucket(), "key"}, "",
                               {{"AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000"}});
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_NE(run->stderr_text.find("InvalidAccessKeyId"), std::string::npos) << run->Describe();

  auto status = testing::SimpleHttpRequest("PUT", server().endpoint() + "/" + bucket() + "/k",
                                           "unsigned", "application/octet-stream");
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  // Real S3 says 403; moto 5.2.1's checker fails on the missing Authorization header and
  // answers 500. Either way the unsigned write must not succeed.
  EXPECT_GE(*status, 400);
  auto got = server().GetObject(bucket(), "k");
  EXPECT_FALSE(got.ok()) << "the unsigned PUT stored an object";
}

TEST_F(AuthMotoServerTest, ResetProvisionsFreshKeys) {
  std::string old_key = server().access_key_id();
  Status reset = server().Reset();
  ASSERT_TRUE(reset.ok()) << reset.error().ToString();
  EXPECT_NE(server().access_key_id(), old_key);
  Status created = server().CreateBucket("after-reset");
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  auto run =
      server().RunAdmin({"put-object", "after-reset", "k"}, "v", {{"AWS_ACCESS_KEY_ID", old_key}});
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_NE(run->stderr_text.find("InvalidAccessKeyId"), std::string::npos)
      << "the old key still works: " << run->Describe();
}

// ---- MotoTest fixture -----------------------------------------------------------------------

class MotoFixtureTest : public MotoTest {
 protected:
  static inline std::string previous_bucket_;  // NOLINT: shared between the two tests
  static inline uint16_t previous_port_ = 0;

  void CheckBucket() {
    EXPECT_LE(bucket().size(), 63u);
    EXPECT_EQ(bucket().find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-"),
              std::string::npos)
        << bucket();
    EXPECT_NE(bucket(), previous_bucket_);
    if (previous_port_ != 0) {
      EXPECT_EQ(server().port(), previous_port_) << "server not shared";
    }
    previous_bucket_ = bucket();
    previous_port_ = server().port();
    Status put = server().PutObject(bucket(), "k", "v");
    EXPECT_TRUE(put.ok()) << put.error().ToString();
  }
};

TEST_F(MotoFixtureTest, GivesEachTestAFreshBucket) { CheckBucket(); }
TEST_F(MotoFixtureTest, GivesEachTestAFreshBucketAgain) { CheckBucket(); }

}  // namespace
}  // namespace s3mount
