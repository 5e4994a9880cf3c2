// Integration tests of credentials changing under a running mount, in real time: short-lived
// container credentials (an Expiration ~20 s ahead, served by
// tests/tools/credentials_responder.py from moto's STS) are refreshed before they expire while
// file operations keep succeeding, and a credentials file rewritten while mounted signs the
// next request. A FaultProxy between the mount and a moto WITHOUT signature checks (so any
// key is accepted) records the Authorization headers, from which the tests read which access
// key id signed each request.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/credentials_responder.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/file_writes.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/s3mount_process.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

using std::chrono::steady_clock;
using testing::EnvOverrides;
using testing::S3mountProcess;

constexpr std::chrono::seconds kLifetime{20};     // Expiration the responder reports
constexpr std::chrono::seconds kRunFor{38};       // how long the mount is exercised
constexpr std::chrono::milliseconds kPause{400};  // between two operations

// The access key id of a SigV4 Authorization header signed for S3, "" otherwise.
std::string S3KeyId(const std::string& authorization) {
  const size_t at = authorization.find("Credential=");
  if (at == std::string::npos) return "";
  const size_t slash = authorization.find('/', at);
  if (authorization.find("/s3/aws4_request", slash) == std::string::npos) return "";
  return authorization.substr(at + 11, slash - at - 11);
}

// Creates `path`, writes `data` and closes it (which uploads); 0 or the errno that failed.
int WriteAndClose(const std::string& path, const std::string& data) {
  return testing::WriteAndClose(path, data).second;
}

// Rewrites a credentials file the way rotation tools do: a new file renamed over the old.
void WriteCredentialsFile(const std::string& path, const std::string& key_id,
                          const std::string& secret) {
  const std::string temporary = path + ".new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "[mount]\naws_access_key_id = " << key_id << "\naws_secret_access_key = " << secret
        << "\n";
  }
  std::filesystem::rename(temporary, path);
}

class CredentialRefreshTest : public testing::MotoTest {
 protected:
  void SetUp() override {
    testing::MotoTest::SetUp();
    if (HasFatalFailure()) return;
    auto home = testing::TempDir::Create("s3mount-refresh-home");
    ASSERT_TRUE(home.ok()) << home.error().ToString();
    home_ = std::move(home).value();
    auto proxy = testing::FaultProxy::Start("127.0.0.1", server().port());
    ASSERT_TRUE(proxy.ok()) << proxy.error().ToString();
    proxy_ = std::move(proxy).value();
  }

  Result<std::unique_ptr<S3mountProcess>> Mount(const EnvOverrides& env,
                                                const std::vector<std::string>& options = {}) {
    EnvOverrides all = {{"HOME", home_->path()}, {"AWS_EC2_METADATA_DISABLED", "true"}};
    all.insert(all.end(), env.begin(), env.end());
    return S3mountProcess::Mount(server(), {.source = bucket(),
                                            .options = options,
                                            .env = all,
                                            .inject_moto_keys = false,
                                            .clear_aws_env = true,
                                            .endpoint = proxy_->endpoint()});
  }

  // Key ids of the S3 requests the proxy saw since `from` (an index into its record).
  std::vector<std::string> S3KeysSince(size_t from) const {
    std::vector<std::string> keys;
    const auto requests = proxy_->recorded_requests();
    for (size_t i = from; i < requests.size(); ++i) {
      std::string key = S3KeyId(requests[i].Header("authorization"));
      if (!key.empty()) keys.push_back(std::move(key));
    }
    return keys;
  }

  std::unique_ptr<testing::TempDir> home_;
  std::unique_ptr<testing::FaultProxy> proxy_;
};

// When each access key id was first and last seen signing, relative to the mount.
struct KeyUse {
  steady_clock::duration first_seen;
  steady_clock::duration last_seen;
};

TEST_F(CredentialRefreshTest, ShortLivedContainerCredentialsAreRefreshedWhileMounted) {
  auto responder = testing::CredentialsResponder::Start(
      {.mode = "container",
       .sts_endpoint = server().endpoint(),
       .access_key_id = std::string(testing::MotoServer::kDefaultAccessKeyId),
       .secret_access_key = std::string(testing::MotoServer::kDefaultSecretAccessKey),
       .expires_in_seconds = static_cast<int>(kLifetime.count()),
       .token = "refresh-token"});
  ASSERT_TRUE(responder.ok()) << responder.error().ToString();
  auto mount = Mount({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", (*responder)->endpoint() + "/creds"},
                      {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "refresh-token"}});
  ASSERT_TRUE(mount.ok()) << mount.error().ToString();
  const auto start = steady_clock::now();

  std::map<std::string, KeyUse> uses;
  std::vector<std::string> order;  // key ids in the order they first signed
  size_t seen = 0;
  auto note_keys = [&] {
    const auto now = steady_clock::now() - start;
    const auto requests = proxy_->recorded_requests();
    for (; seen < requests.size(); ++seen) {
      const std::string key = S3KeyId(requests[seen].Header("authorization"));
      if (key.empty()) continue;
      auto [it, added] = uses.try_emplace(key, KeyUse{now, now});
      it->second.last_seen = now;
      if (added) order.push_back(key);
    }
  };
  note_keys();
  int operations = 0;
  while (steady_clock::now() - start < kRunFor) {
    const std::string name = "op-" + std::to_string(operations++);
    const int error = WriteAndClose((*mount)->Path(name), "payload " + name);
    ASSERT_EQ(error, 0)
        << "writing " << name << " after "
        << std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - start).count()
        << " s failed: " << std::strerror(error) << "\ns3mount log:\n"
        << (*mount)->LogTail();
    auto stored = server().GetObject(bucket(), name);
    ASSERT_TRUE(stored.ok()) << name << ": " << stored.error().ToString();
    EXPECT_EQ(*stored, "payload " + name);
    note_keys();
    std::this_thread::sleep_for(kPause);
  }

  // Refreshed from half their lifetime on: fetched at ~0, ~10, ~20 and ~30 s.
  EXPECT_GE((*responder)->CredentialRequests(), 3)
      << "credentials valid for " << kLifetime.count() << " s were not fetched again every ~"
      << kLifetime.count() / 2 << " s in " << kRunFor.count() << " s of use";
  ASSERT_FALSE(order.empty()) << "no signed S3 request went through the proxy";
  EXPECT_GE(order.size(), 3u) << "expected at least three successive keys signing";
  ASSERT_GE(order.size(), 2u) << "every request in " << kRunFor.count()
                              << " s was signed with the same key " << order.front();
  for (const std::string& key : order) {
    EXPECT_TRUE(key.starts_with("ASIA")) << key << " is not a key from the container endpoint";
    const KeyUse& use = uses[key];
    EXPECT_LT(use.last_seen - use.first_seen, kLifetime)
        << key << " kept signing for "
        << std::chrono::duration_cast<std::chrono::milliseconds>(use.last_seen - use.first_seen)
               .count()
        << " ms, past the " << kLifetime.count() << " s it was valid for";
  }
  for (size_t i = 1; i < order.size(); ++i) {
    EXPECT_GE(uses[order[i]].first_seen, uses[order[i - 1]].last_seen - std::chrono::seconds(2))
        << order[i - 1] << " signed again well after " << order[i] << " replaced it";
  }
  const auto requests = (*responder)->Requests();
  ASSERT_FALSE(requests.empty());
  for (const auto& request : requests) EXPECT_EQ(request.authorization, "refresh-token");
}

TEST_F(CredentialRefreshTest, CredentialsFileRewrittenWhileMountedSignsTheNextRequest) {
  const std::string file = home_->File("rotated-credentials");
  WriteCredentialsFile(file, "AKIAFIRSTKEY00000001", "first-secret");
  // Keys in the environment too: the explicit credentials_file= must win over them.
  auto mount = Mount({{"AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00001"},
                      {"AWS_SECRET_ACCESS_KEY", "environment-secret"}},
                     {"credentials_file=" + file, "profile=mount"});
  ASSERT_TRUE(mount.ok()) << mount.error().ToString();

  ASSERT_EQ(WriteAndClose((*mount)->Path("before"), "one"), 0) << (*mount)->LogTail();
  const auto before = S3KeysSince(0);
  ASSERT_FALSE(before.empty());
  for (const auto& key : before) EXPECT_EQ(key, "AKIAFIRSTKEY00000001");

  const size_t mark = proxy_->recorded_requests().size();
  WriteCredentialsFile(file, "AKIASECONDKEY0000002", "second-secret");
  ASSERT_EQ(WriteAndClose((*mount)->Path("after"), "two"), 0) << (*mount)->LogTail();
  const auto after = S3KeysSince(mark);
  ASSERT_FALSE(after.empty()) << "writing a new file sent no S3 request";
  for (const auto& key : after) {
    EXPECT_EQ(key, "AKIASECONDKEY0000002") << "a request after the rewrite was not signed with "
                                              "the rewritten file's key";
  }
  auto stored = server().GetObject(bucket(), "after");
  ASSERT_TRUE(stored.ok()) << stored.error().ToString();
  EXPECT_EQ(*stored, "two");
}

}  // namespace
}  // namespace s3mount
