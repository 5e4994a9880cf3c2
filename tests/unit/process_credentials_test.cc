// Tests for ProcessCredentialsProvider: real /bin/sh scripts written to a temporary directory
// print credential documents, fail, hang or print nonsense.
#include "s3mount/auth/process_credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "s3mount/common/time_format.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY";
constexpr char kToken[] = "FwoGZXIvYXdzSESSIONTOKENVALUE";

// True when `pid` no longer runs (gone, or a zombie nobody reaped yet).
bool Exited(pid_t pid) {
  if (kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

class ProcessCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = s3mount::testing::TempDir::Create("s3mount-process-creds");
    ASSERT_TRUE(dir.ok()) << dir.error().ToString();
    dir_ = std::move(dir).value();
  }

  // Writes an executable script `name` with `body` and returns its path.
  std::string Script(const std::string& name, const std::string& body) {
    std::string path = dir_->File(name);
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    chmod(path.c_str(), 0700);
    return path;
  }

  // A script printing `json` on stdout.
  std::string Printing(const std::string& name, const std::string& json) {
    return Script(name, "cat <<'JSON'\n" + json + "\nJSON");
  }

  static void ExpectNoSecrets(const Error& error) {
    EXPECT_EQ(error.message.find(kSecret), std::string::npos) << error.message;
    EXPECT_EQ(error.message.find(kToken), std::string::npos) << error.message;
  }

  SystemClock system_clock_;
  std::unique_ptr<s3mount::testing::TempDir> dir_;
};

TEST_F(ProcessCredentialsTest, ReadsKeysTokenAndExpiration) {
  const std::string script =
      Printing("good.sh", std::string(R"({"Version": 1, "AccessKeyId": "AKIDPROCESS",
        "SecretAccessKey": ")") +
                              kSecret + R"(", "SessionToken": ")" + kToken +
                              R"(", "Expiration": "2099-01-02T03:04:05Z"})");
  ProcessCredentialsProvider provider(script, system_clock_);
  auto credentials = provider.GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "AKIDPROCESS");
  EXPECT_EQ(credentials->secret_access_key, kSecret);
  EXPECT_EQ(credentials->session_token, kToken);
  ASSERT_TRUE(credentials->expiration.has_value());
  EXPECT_EQ(FormatIso8601(*credentials->expiration), "2099-01-02T03:04:05.000Z");
}

TEST_F(ProcessCredentialsTest, LongTermKeysHaveNoTokenOrExpiration) {
  const std::string script = Printing(
      "static.sh",
      std::string(R"({"Version":1,"AccessKeyId":"AKID","SecretAccessKey":")") + kSecret + R"("})");
  ProcessCredentialsProvider provider(script, system_clock_);
  auto credentials = provider.GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  EXPECT_TRUE(credentials->session_token.empty());
  EXPECT_FALSE(credentials->expiration.has_value());
}

TEST_F(ProcessCredentialsTest, RunsThroughShellWithArgumentsAndStdinFromDevNull) {
  // The command line is shell syntax; stdin is /dev/null so `cat -` ends at once.
  const std::string script = Script(
      "args.sh", std::string("cat - >/dev/null; printf '{\"Version\":1,\"AccessKeyId\":\"%s\","
                             "\"SecretAccessKey\":\"") +
                     kSecret + "\"}' \"$1\"");
  ProcessCredentialsProvider provider(script + " 'AKID FROM ARG'", system_clock_);
  auto credentials = provider.GetCredentials();
  ASSERT_TRUE(credentials.ok()) << credentials.error().ToString();
  EXPECT_EQ(credentials->access_key_id, "AKID FROM ARG");
}

TEST_F(ProcessCredentialsTest, RunsTheCommandOnEveryCallLeavingCachingToTheRefresher) {
  s3mount::testing::FakeClock clock(*ParseIso8601("2030-01-01T00:00:00Z"));
  const std::string counter = dir_->File("runs");
  const std::string script = Script(
      "counting.sh", "echo run >> '" + counter +
                         "'; printf '{\"Version\":1,\"AccessKeyId\":\"AKID%s\",\"SecretAccessKey\":"
                         "\"s\",\"Expiration\":\"2030-01-01T01:00:00Z\"}' $(wc -l < '" +
                         counter + "')");
  ProcessCredentialsProvider provider(script, clock);
  auto first = provider.GetCredentials();
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->access_key_id, "AKID1");
  auto second = provider.GetCredentials();
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_EQ(second->access_key_id, "AKID2");
}

TEST_F(ProcessCredentialsTest, AlreadyExpiredCredentialsAreRefused) {
  const std::string script = Printing(
      "expired.sh", std::string(R"({"Version":1,"AccessKeyId":"AKID","SecretAccessKey":")") +
                        kSecret + R"(","Expiration":"2001-01-01T00:00:00Z"})");
  ProcessCredentialsProvider provider(script, system_clock_);
  auto credentials = provider.GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ErrorCode::kCredentials);
  EXPECT_NE(credentials.error().message.find("expired at 2001-01-01T00:00:00"), std::string::npos)
      << credentials.error().message;
  ExpectNoSecrets(credentials.error());
}

TEST_F(ProcessCredentialsTest, BadJsonNamesCommandNotOutput) {
  const std::string script =
      Printing("bad.sh", std::string("AccessKeyId=AKID SecretAccessKey=") + kSecret);
  ProcessCredentialsProvider provider(script, system_clock_);
  auto credentials = provider.GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ErrorCode::kCredentials);
  EXPECT_NE(credentials.error().message.find("credential_process '" + script + "'"),
            std::string::npos)
      << credentials.error().message;
  EXPECT_NE(credentials.error().message.find("not valid JSON"), std::string::npos)
      << credentials.error().message;
  ExpectNoSecrets(credentials.error());
}

TEST_F(ProcessCredentialsTest, WrongOrMissingVersionIsRefused) {
  const std::string v2 =
      Printing("v2.sh", std::string(R"({"Version":2,"AccessKeyId":"AKID","SecretAccessKey":")") +
                            kSecret + R"("})");
  auto wrong = ProcessCredentialsProvider(v2, system_clock_).GetCredentials();
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("unsupported Version 2"), std::string::npos)
      << wrong.error().message;
  ExpectNoSecrets(wrong.error());
  const std::string none = Printing(
      "nov.sh", std::string(R"({"AccessKeyId":"AKID","SecretAccessKey":")") + kSecret + R"("})");
  auto missing = ProcessCredentialsProvider(none, system_clock_).GetCredentials();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no Version"), std::string::npos)
      << missing.error().message;
}

TEST_F(ProcessCredentialsTest, MissingSecretIsNamed) {
  const std::string script =
      Printing("nosecret.sh", R"({"Version":1,"AccessKeyId":"AKID","SessionToken":")" +
                                  std::string(kToken) + R"("})");
  auto credentials = ProcessCredentialsProvider(script, system_clock_).GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("SecretAccessKey"), std::string::npos)
      << credentials.error().message;
  ExpectNoSecrets(credentials.error());
}

TEST_F(ProcessCredentialsTest, NonZeroExitGivesStatusAndFirstStderrLine) {
  const std::string script =
      Script("fail.sh", std::string("echo '{\"SecretAccessKey\":\"") + kSecret +
                            "\"}'; echo '' >&2; echo 'error: token expired, log in again' >&2; "
                            "echo 'second line' >&2; exit 3");
  auto credentials = ProcessCredentialsProvider(script, system_clock_).GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ErrorCode::kCredentials);
  EXPECT_EQ(credentials.error().message,
            "credential_process '" + script +
                "' exited with status 3: error: token expired, log in again");
  ExpectNoSecrets(credentials.error());
}

TEST_F(ProcessCredentialsTest, KilledBySignalIsReported) {
  // The shell itself is killed (a script run by it would make the shell exit with 137).
  auto credentials = ProcessCredentialsProvider("kill -9 $$", system_clock_).GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("killed by signal 9"), std::string::npos)
      << credentials.error().message;
}

TEST_F(ProcessCredentialsTest, CommandNotFoundIsStatus127) {
  const std::string command = dir_->File("does-not-exist");
  auto credentials = ProcessCredentialsProvider(command, system_clock_).GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("exited with status 127"), std::string::npos)
      << credentials.error().message;
}

TEST_F(ProcessCredentialsTest, HangingCommandIsKilledAfterTimeout) {
  // The script's background child holds stdout open too: the whole group must die.
  const std::string pid_file = dir_->File("child.pid");
  const std::string script = Script("hang.sh", "sleep 30 & echo $! > '" + pid_file + "'; sleep 30");
  ProcessCredentialsProvider provider(script, system_clock_, std::chrono::milliseconds(1000));
  auto credentials = provider.GetCredentials();
  // Without the timeout the script would have ended (after 30 s) with no output: a different
  // error, not "did not finish in time".
  ASSERT_FALSE(credentials.ok());
  EXPECT_EQ(credentials.error().code, ErrorCode::kCredentials);
  EXPECT_NE(credentials.error().message.find("did not finish in time"), std::string::npos)
      << credentials.error().message;
  EXPECT_NE(credentials.error().message.find("1000 ms"), std::string::npos)
      << credentials.error().message;
  std::ifstream pid_in(pid_file);
  pid_t child = 0;
  pid_in >> child;
  ASSERT_GT(child, 0);
  // The background sleep was in the killed group; give the kernel a moment to reap it.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = Exited(child);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "background child " << child << " survived the timeout";
}

TEST_F(ProcessCredentialsTest, TooMuchOutputIsAnError) {
  const std::string script = Script("chatty.sh", "yes AAAAAAAAAAAAAAAA | head -c 3000000");
  auto credentials = ProcessCredentialsProvider(script, system_clock_).GetCredentials();
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(credentials.error().message.find("printed more than"), std::string::npos)
      << credentials.error().message;
}

}  // namespace
}  // namespace s3mount
