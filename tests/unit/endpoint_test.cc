// Tests for endpoint resolution: AWS regional hosts, custom endpoints, addressing style.
#include "s3mount/s3/endpoint.h"

#include <gtest/gtest.h>

namespace s3mount {
namespace {

ResolvedEndpoint Resolve(const std::string& url, const std::string& bucket,
                         bool force_path_style = false, const std::string& region = "us-east-1",
                         bool force_virtual_hosted = false) {
  auto endpoint = ResolveEndpoint({url, region, force_path_style, force_virtual_hosted}, bucket);
  EXPECT_TRUE(endpoint.ok()) << endpoint.error().ToString();
  return endpoint.ok() ? *endpoint : ResolvedEndpoint{};
}

TEST(EndpointTest, AwsRegionalVirtualHosted) {
  auto e = Resolve("", "my-bucket", false, "eu-west-1");
  EXPECT_EQ(e.BaseUrl(), "https://my-bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_FALSE(e.path_style);
  EXPECT_EQ(Resolve("", "b-cn", false, "cn-north-1").host, "b-cn.s3.cn-north-1.amazonaws.com.cn");
}

TEST(EndpointTest, DottedBucketOverHttpsUsesPathStyle) {
  auto e = Resolve("", "my.bucket", false, "us-west-2");
  EXPECT_EQ(e.BaseUrl(), "https://s3.us-west-2.amazonaws.com/my.bucket");
  EXPECT_TRUE(e.path_style);
  EXPECT_FALSE(
      Resolve("http://minio.example:9000", "my.bucket", false, "us-east-1", true).path_style);
}

TEST(EndpointTest, NonDnsSafeBucketUsesPathStyle) {
  for (const char* bucket : {"My_Bucket", "ab", "-abc", "abc-", "a..b", "192.168.1.1"}) {
    EXPECT_TRUE(Resolve("https://s3.example.com", bucket).path_style) << bucket;
  }
}

TEST(EndpointTest, IpAndLocalhostEndpointsUsePathStyle) {
  EXPECT_EQ(Resolve("http://127.0.0.1:5000", "bucket").BaseUrl(), "http://127.0.0.1:5000/bucket");
  EXPECT_EQ(Resolve("http://[::1]:9000/", "bucket").BaseUrl(), "http://[::1]:9000/bucket");
  EXPECT_EQ(Resolve("http://localhost:9000", "bucket").BaseUrl(), "http://localhost:9000/bucket");
}

// What a MinIO user types first: `bucket.minio` is in no DNS, so custom endpoints default to
// path-style (as boto3 and rclone do).
TEST(EndpointTest, CustomEndpointGivenByHostNameIsPathStyle) {
  EXPECT_EQ(Resolve("http://minio:9000", "bucket").BaseUrl(), "http://minio:9000/bucket");
  EXPECT_EQ(Resolve("https://s3.example.com", "bucket").BaseUrl(), "https://s3.example.com/bucket");
  EXPECT_EQ(Resolve("https://gw.example.com/s3/", "bucket").BaseUrl(),
            "https://gw.example.com/s3/bucket");
}

TEST(EndpointTest, AwsHostGivenAsEndpointStaysVirtualHosted) {
  EXPECT_EQ(Resolve("https://s3.eu-west-1.amazonaws.com", "bucket").BaseUrl(),
            "https://bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(Resolve("https://bucket.vpce-1a2b.s3.us-east-1.vpce.AMAZONAWS.com", "b-1").host,
            "b-1.bucket.vpce-1a2b.s3.us-east-1.vpce.amazonaws.com");
  EXPECT_TRUE(Resolve("https://s3.eu-west-1.amazonaws.com", "bucket", true).path_style);
  EXPECT_TRUE(IsAwsHost("s3.cn-north-1.amazonaws.com.cn"));
  EXPECT_FALSE(IsAwsHost("amazonaws.com.example.org"));
}

TEST(EndpointTest, ForcedVirtualHostedOnCustomEndpointAndDefaultPortsDropped) {
  auto forced = [](const std::string& url, const std::string& bucket) {
    return Resolve(url, bucket, false, "us-east-1", true);
  };
  EXPECT_EQ(forced("https://S3.Example.com:443", "bucket").BaseUrl(),
            "https://bucket.s3.example.com");
  EXPECT_EQ(forced("http://s3.example.com:80/", "bucket").BaseUrl(),
            "http://bucket.s3.example.com");
  EXPECT_EQ(forced("https://s3.example.com:8443", "bucket").host, "bucket.s3.example.com:8443");
  // Where virtual-hosted cannot work, path-style all the same.
  EXPECT_TRUE(forced("http://127.0.0.1:9000", "bucket").path_style);
  EXPECT_TRUE(forced("http://minio:9000", "My_Bucket").path_style);
}

TEST(EndpointTest, BothStylesForcedIsRejected) {
  auto e = ResolveEndpoint({"http://minio:9000", "us-east-1", true, true}, "bucket");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(e.error().message.find("path_style and virtual_hosted"), std::string::npos)
      << e.error().message;
}

TEST(EndpointTest, ForcedPathStyleKeepsEndpointPath) {
  EXPECT_EQ(Resolve("https://gw.example.com/s3/", "bucket", true).BaseUrl(),
            "https://gw.example.com/s3/bucket");
}

TEST(EndpointTest, BadInputIsRejectedWithReason) {
  struct Case {
    std::string url, bucket, needle;
  };
  for (const Case& c : std::vector<Case>{{"ftp://x", "b", "http or https"},
                                         {"s3.example.com", "b", "no scheme"},
                                         {"http://", "b", "no host"},
                                         {"http://h:99999", "b", "invalid port"},
                                         {"http://h:12ab", "b", "invalid port"},
                                         {"http://user:pw@h", "b", "credentials"},
                                         {"http://h", "", "bucket name is empty"}}) {
    auto e = ResolveEndpoint({c.url, "us-east-1", false}, c.bucket);
    ASSERT_FALSE(e.ok()) << c.url;
    EXPECT_EQ(e.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(e.error().message.find(c.needle), std::string::npos) << e.error().message;
  }
}

TEST(EndpointTest, DnsSafety) {
  EXPECT_TRUE(IsDnsSafeBucketName("abc"));
  EXPECT_TRUE(IsDnsSafeBucketName("a-b.c1"));
  EXPECT_FALSE(IsDnsSafeBucketName("ABC"));
  EXPECT_FALSE(IsDnsSafeBucketName(std::string(64, 'a')));
  EXPECT_TRUE(IsIpAddress("10.0.0.1"));
  EXPECT_TRUE(IsIpAddress("::1"));
  EXPECT_FALSE(IsIpAddress("example.com"));
}

}  // namespace
}  // namespace s3mount
