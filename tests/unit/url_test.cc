// Tests for ParseHttpUrl (aws/url.h), the one URL parser of the endpoint, STS, SQS and
// container-credentials URLs.
#include "s3mount/aws/url.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace s3mount {
namespace {

TEST(ParseHttpUrlTest, SplitsSchemeHostPortAndPath) {
  auto url = ParseHttpUrl("HTTPS://Queue.Example.COM:8443/123/my-queue");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "queue.example.com");
  EXPECT_EQ(url->port, "8443");
  EXPECT_EQ(url->path, "/123/my-queue");
  EXPECT_EQ(url->HostHeader(), "queue.example.com:8443");
  EXPECT_FALSE(url->has_user_info || url->has_query || url->has_fragment);
}

TEST(ParseHttpUrlTest, DefaultPortIsLeftOutOfTheHostHeader) {
  auto https = ParseHttpUrl("https://sts.amazonaws.com:443");
  ASSERT_TRUE(https.ok()) << https.error().message;
  EXPECT_EQ(https->HostHeader(), "sts.amazonaws.com");
  EXPECT_EQ(https->path, "/");
  auto http = ParseHttpUrl("http://127.0.0.1:80/x");
  ASSERT_TRUE(http.ok()) << http.error().message;
  EXPECT_EQ(http->HostHeader(), "127.0.0.1");
  auto other = ParseHttpUrl("http://127.0.0.1:443/x");
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_EQ(other->HostHeader(), "127.0.0.1:443");
}

TEST(ParseHttpUrlTest, Ipv6HostKeepsItsBrackets) {
  auto url = ParseHttpUrl("http://[::1]:9000/s3/");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_EQ(url->host, "[::1]");
  EXPECT_EQ(url->HostHeader(), "[::1]:9000");
  EXPECT_EQ(url->path, "/s3/");
}

TEST(ParseHttpUrlTest, ReportsUserInfoQueryAndFragment) {
  auto url = ParseHttpUrl("https://user:pw@host/p?a=1#f");
  ASSERT_TRUE(url.ok()) << url.error().message;
  EXPECT_TRUE(url->has_user_info);
  EXPECT_TRUE(url->has_query);
  EXPECT_TRUE(url->has_fragment);
  EXPECT_EQ(url->path, "/p");
}

TEST(ParseHttpUrlTest, BadUrlsAreRejectedWithReasonAndNeverEchoed) {
  struct Case {
    std::string url, reason;
  };
  for (const Case& c : std::vector<Case>{
           {"host.example.com/p", "has no scheme"},
           {"localhost:9000", "has no scheme"},
           {"ftp://host/p", "the scheme 'ftp', which is not http(s); use http or https"},
           {"http://", "has no host"},
           {"https:///1/q", "has no host"},
           {"http://h:99999", "invalid port"},
           {"http://h:0/", "invalid port"},
           {"http://h:12ab", "invalid port"},
           {"http://h/a b", "is malformed"}}) {
    auto url = ParseHttpUrl(c.url);
    ASSERT_FALSE(url.ok()) << c.url << " was accepted";
    EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument) << c.url;
    EXPECT_NE(url.error().message.find(c.reason), std::string::npos)
        << c.url << ": " << url.error().message;
    EXPECT_EQ(url.error().message.find(c.url), std::string::npos) << url.error().message;
  }
}

}  // namespace
}  // namespace s3mount
