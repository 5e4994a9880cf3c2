// GoogleTest fixtures over MotoServer: one moto_server per test suite, a fresh uniquely named
// bucket per test. MotoTest runs moto without signature checks (functional tests);
// AuthMotoTest enforces SigV4 and exposes the IAM user's keys (auth tests).
//
//   class MyTest : public MotoTest {};
//   TEST_F(MyTest, Works) { ... server().endpoint(), bucket(), server().access_key_id() ... }
//
// If moto cannot start, every test of the suite FAILS in SetUp() with the reason (never
// skips). A subclass overriding SetUp() must call the base first and return if
// HasFatalFailure(); one overriding SetUpTestSuite()/TearDownTestSuite() must call the base.
//
// Thread-safety: as GoogleTest fixtures (the test's thread); server() as MotoServer.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <memory>
#include <string>

#include "tests/support/moto_server.h"

namespace s3mount::testing {

// A valid, unique S3 bucket name derived from the running test's name:
// "t-<suite>-<test>-<n>", lower case, at most 63 characters.
inline std::string UniqueBucketName() {
  static std::atomic<int> counter{0};
  std::string raw = "t";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    raw += std::string("-") + info->test_suite_name() + "-" + info->name();
  }
  std::string name;
  for (char c : raw) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool keep = std::isalnum(static_cast<unsigned char>(lower)) != 0;
    if (keep) {
      name += lower;
    } else if (!name.empty() && name.back() != '-') {
      name += '-';
    }
  }
  std::string suffix = std::to_string(counter.fetch_add(1));
  std::size_t max_stem = 63 - suffix.size() - 1;
  if (name.size() > max_stem) name.resize(max_stem);
  if (name.back() != '-') name += '-';
  return name + suffix;
}

template <bool kEnforceSigV4>
class MotoTestBase : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    MotoOptions options;
    options.enforce_sigv4 = kEnforceSigV4;
    auto server = MotoServer::Start(options);
    if (server.ok()) {
      server_ = std::move(*server);
      start_error_.clear();
    } else {
      server_.reset();
      start_error_ = server.error().ToString();
    }
  }
  static void TearDownTestSuite() { server_.reset(); }

 protected:
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "moto_server failed to start: " << start_error_;
    bucket_ = UniqueBucketName();
    Status created = server_->CreateBucket(bucket_);
    ASSERT_TRUE(created.ok()) << created.error().ToString() << "\nmoto log tail:\n"
                              << server_->LogTail();
  }

  // The suite's server. Only valid after SetUp() succeeded.
  static MotoServer& server() { return *server_; }
  // A bucket created for this test alone.
  const std::string& bucket() const { return bucket_; }

 private:
  static inline std::unique_ptr<MotoServer> server_;
  static inline std::string start_error_;
  std::string bucket_;
};

using MotoTest = MotoTestBase<false>;
using AuthMotoTest = MotoTestBase<true>;

}  // namespace s3mount::testing
