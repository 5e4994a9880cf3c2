// Integration test of credential rotation against moto with SigV4 enforced: a profile file
// rewritten while the client runs is used from the next request, without a restart.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "s3mount/auth/profile_credentials.h"
#include "s3mount/s3/curl_object_store.h"
#include "tests/support/moto_fixture.h"
#include "tests/support/s3_client_factory.h"
#include "tests/support/subprocess.h"

namespace s3mount {
namespace {

class CredentialsRotationTest : public testing::AuthMotoTest {};

void WriteProfile(const std::string& path, const std::string& key_id, const std::string& secret) {
  const std::string temporary = path + ".new";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << "[rotating]\naws_access_key_id = " << key_id << "\naws_secret_access_key = " << secret
        << "\n";
  }
  std::filesystem::rename(temporary, path);  // as rotation tools replace the file
}

TEST_F(CredentialsRotationTest, RewrittenCredentialsFileIsUsedFromTheNextRequest) {
  auto dir = testing::TempDir::Create("s3mount-rotation");
  ASSERT_TRUE(dir.ok());
  const AwsSharedFiles files{(*dir)->File("credentials"), (*dir)->File("config")};
  WriteProfile(files.credentials_file, server().access_key_id(), "an-outdated-secret");
  ProfileCredentialsProvider provider(files, "rotating");
  SystemClock clock;
  auto store = CurlObjectStore::Create(testing::LocalClientOptions(server().endpoint(), bucket()),
                                       provider, clock);
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  auto refused = (*store)->PutObject({.key = "probe", .body = "x"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kSignatureDoesNotMatch);
  WriteProfile(files.credentials_file, server().access_key_id(), server().secret_access_key());
  auto accepted = (*store)->PutObject({.key = "probe", .body = "x"});
  EXPECT_TRUE(accepted.ok()) << "the rotated keys must be used at once: "
                             << accepted.error().ToString();
}

}  // namespace
}  // namespace s3mount
