// TLS verification of the S3 client against a local HTTPS server with a self-signed
// certificate: refused by default (a kTls error that is not retried), accepted with the
// certificate as the CA bundle, and accepted with verification turned off.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "s3mount/s3/curl_object_store.h"
#include "s3mount/s3/object_sinks.h"
#include "s3mount/s3/retrying_object_store.h"
#include "tests/support/free_port.h"
#include "tests/support/s3_client_factory.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_paths.h"

namespace s3mount {
namespace {

using testing::RunCommand;
using testing::Subprocess;
using testing::TempDir;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("s3mount-tls");
    ASSERT_TRUE(dir.ok()) << dir.error().ToString();
    dir_ = std::move(dir).value();
    auto made =
        RunCommand({.argv = {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                             dir_->File("key.pem"), "-out", dir_->File("cert.pem"), "-days", "2",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"}});
    ASSERT_TRUE(made.ok() && made->ok())
        << (made.ok() ? made->Describe() : made.error().ToString());
    auto port = testing::PickFreePort();
    ASSERT_TRUE(port.ok());
    endpoint_ = "https://127.0.0.1:" + std::to_string(*port);
    auto server = Subprocess::Start(
        {.argv = {"python3", testing::SourceDir() + "/tests/tools/https_stub.py",
                  std::to_string(*port), dir_->File("cert.pem"), dir_->File("key.pem")},
         .log_path = dir_->File("server.log")});
    ASSERT_TRUE(server.ok()) << server.error().ToString();
    server_ = std::move(server).value();
    for (int i = 0; i < 100 && server_->LogTail().find("ready") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_NE(server_->LogTail().find("ready"), std::string::npos) << server_->LogTail();
  }

  Result<BucketInfo> HeadBucket(const HttpClientOptions& http) {
    S3ClientOptions options = testing::LocalClientOptions(endpoint_, "bucket");
    options.http = http;
    auto client = testing::MakeTestClient(options, {"k", "s", "", std::nullopt}, clock_);
    RetryPolicy policy(RetryOptions{.base_delay = std::chrono::milliseconds(1)});
    RetryingObjectStore store(*client.store, policy, clock_);
    return store.HeadBucket();
  }

  SystemClock clock_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Subprocess> server_;
  std::string endpoint_;
};

TEST_F(TlsTest, UntrustedCertificateIsRefusedByDefault) {
  auto head = HeadBucket({});
  ASSERT_FALSE(head.ok()) << "a self-signed certificate was trusted";
  EXPECT_EQ(head.error().code, ErrorCode::kTls) << head.error().ToString();
}

TEST_F(TlsTest, CaBundleOptionTrustsTheCertificate) {
  HttpClientOptions http;
  http.ca_bundle = dir_->File("cert.pem");
  auto head = HeadBucket(http);
  ASSERT_TRUE(head.ok()) << head.error().ToString();
  EXPECT_EQ(head->region, "us-east-1");
}

TEST_F(TlsTest, VerificationCanBeTurnedOff) {
  HttpClientOptions http;
  http.verify_tls = false;
  auto head = HeadBucket(http);
  EXPECT_TRUE(head.ok()) << head.error().ToString();
}

TEST_F(TlsTest, MissingCaBundleFileIsATlsError) {
  HttpClientOptions http;
  http.ca_bundle = dir_->File("does-not-exist.pem");
  auto head = HeadBucket(http);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, ErrorCode::kTls) << head.error().ToString();
}

// The stub answers every GET with 200 and its whole body, as a server ignoring Range would.
TEST_F(TlsTest, ServerIgnoringRangeIsAnErrorNotWrongBytes) {
  S3ClientOptions options = testing::LocalClientOptions(endpoint_, "bucket");
  options.http.verify_tls = false;
  auto client = testing::MakeTestClient(options, {"k", "s", "", std::nullopt}, clock_);
  StringSink sink;
  auto got = client.store->GetObject({.key = "k", .range = ByteRange{5, 9}}, sink);
  ASSERT_FALSE(got.ok()) << "a reply from byte 0 was taken for bytes 5-9";
  EXPECT_EQ(got.error().code, ErrorCode::kInvalidResponse) << got.error().ToString();
  EXPECT_TRUE(sink.data().empty());
  auto whole = client.store->GetObject({.key = "k", .range = ByteRange{0, std::nullopt}}, sink);
  EXPECT_TRUE(whole.ok()) << whole.error().ToString();
}

}  // namespace
}  // namespace s3mount
