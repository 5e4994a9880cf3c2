// Builds a CurlObjectStore for integration tests: path-style against a local endpoint, with
// the given keys and short timeouts, failing the test with the reason if it cannot.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "s3mount/aws/credentials.h"
#include "s3mount/common/clock.h"
#include "s3mount/s3/curl_object_store.h"

namespace s3mount::testing {

struct TestClient {
  std::unique_ptr<StaticCredentialsProvider> credentials;
  std::unique_ptr<CurlObjectStore> store;
};

inline S3ClientOptions LocalClientOptions(const std::string& endpoint, const std::string& bucket) {
  S3ClientOptions options;
  options.bucket = bucket;
  options.endpoint.endpoint_url = endpoint;
  options.endpoint.region = "us-east-1";
  options.http.connect_timeout = std::chrono::seconds(5);
  options.http.low_speed_time = std::chrono::seconds(10);
  return options;
}

inline TestClient MakeTestClient(const S3ClientOptions& options, Credentials credentials,
                                 Clock& clock) {
  TestClient client;
  client.credentials = std::make_unique<StaticCredentialsProvider>(std::move(credentials));
  auto store = CurlObjectStore::Create(options, *client.credentials, clock);
  EXPECT_TRUE(store.ok()) << store.error().ToString();
  if (store.ok()) client.store = std::move(store).value();
  return client;
}

}  // namespace s3mount::testing
