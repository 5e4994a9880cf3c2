// Tests for the HTTP request counter of bench/latency_proxy (bench/http_request_counter.h):
// classification of S3 requests, framing of Content-Length and chunked bodies, pipelined
// requests split at every byte boundary, and garbage that must stop the count.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "bench/http_request_counter.h"

namespace s3mount {
namespace {

using Classes = std::vector<RequestClass>;

// A counter that records the classes it reports.
struct Recorder {
  Classes seen;
  HttpRequestCounter counter{[this](RequestClass c) { seen.push_back(c); }};
};

std::string Names(const Classes& classes) {
  std::string names;
  for (const RequestClass c : classes) names += std::string(RequestClassName(c)) + " ";
  return names;
}

TEST(RequestClassifyTest, ClassifiesS3Requests) {
  EXPECT_EQ(ClassifyRequest("HEAD", "/bench/key"), RequestClass::kHead);
  EXPECT_EQ(ClassifyRequest("HEAD", "/bench"), RequestClass::kHead);
  EXPECT_EQ(ClassifyRequest("GET", "/bench/key"), RequestClass::kGet);
  EXPECT_EQ(ClassifyRequest("GET", "/bench/dir/sub/file.txt?x-id=GetObject"), RequestClass::kGet);
  EXPECT_EQ(ClassifyRequest("GET", "/bench/dir/"), RequestClass::kGet);  // the object "dir/"
  EXPECT_EQ(ClassifyRequest("GET", "/bench?list-type=2&prefix=a/b/&delimiter=/"),
            RequestClass::kList);
  EXPECT_EQ(ClassifyRequest("GET", "/bench/?prefix="), RequestClass::kList);
  EXPECT_EQ(ClassifyRequest("GET", "/bench"), RequestClass::kList);
  EXPECT_EQ(ClassifyRequest("GET", "/"), RequestClass::kList);
  EXPECT_EQ(ClassifyRequest("GET", "/?list-type=2"), RequestClass::kList);
  EXPECT_EQ(ClassifyRequest("GET", "http://127.0.0.1:9000/bench/key"), RequestClass::kGet);
  EXPECT_EQ(ClassifyRequest("GET", "http://127.0.0.1:9000/bench?list-type=2"), RequestClass::kList);
  EXPECT_EQ(ClassifyRequest("GET", "http://127.0.0.1:9000"), RequestClass::kList);
  EXPECT_EQ(ClassifyRequest("PUT", "/bench/key"), RequestClass::kPut);
  EXPECT_EQ(ClassifyRequest("DELETE", "/bench/key"), RequestClass::kDelete);
  EXPECT_EQ(ClassifyRequest("POST", "/bench?delete"), RequestClass::kPost);
  EXPECT_EQ(ClassifyRequest("OPTIONS", "/bench/key"), RequestClass::kOther);
  EXPECT_EQ(ClassifyRequest("get", "/bench/key"), RequestClass::kOther);  // methods are cased
}

// Every kind of framing, one after the other on one connection. The bodies contain text that
// looks like requests; a counter that did not skip them would count too many.
constexpr std::string_view kPipelined =
    "PUT /bench/a HTTP/1.1\r\nHost: x\r\ncontent-length: 26\r\n\r\n"
    "GET /bench/fake HTTP/1.1\r\n"
    "\r\n"  // an empty line between requests is allowed
    "PUT /bench/b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    "Expect: 100-continue\r\n\r\n"
    "5;name=value\r\nHEAD \r\n"
    "1A\r\nGET /bench/xy HTTP/1.1\r\n\r\n\r\n"
    "0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n"
    "HEAD /bench/a HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET /bench?list-type=2&prefix=dir%2F HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET /bench/a HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n"
    "PUT /bench/c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    "0\r\n\r\n"
    "DELETE /bench/a HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
    "POST /bench?delete HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"
    "GET /bench/ HTTP/1.0\r\n\r\n";

Classes PipelinedClasses() {
  return {RequestClass::kPut,    RequestClass::kPut,  RequestClass::kHead,
          RequestClass::kList,   RequestClass::kGet,  RequestClass::kPut,
          RequestClass::kDelete, RequestClass::kPost, RequestClass::kList};
}

TEST(HttpRequestCounterTest, CountsPipelinedRequestsInOnePiece) {
  Recorder recorder;
  EXPECT_TRUE(recorder.counter.Feed(kPipelined));
  EXPECT_FALSE(recorder.counter.failed());
  EXPECT_EQ(Names(recorder.seen), Names(PipelinedClasses()));
  EXPECT_EQ(recorder.counter.requests(), PipelinedClasses().size());
}

TEST(HttpRequestCounterTest, CountsPipelinedRequestsSplitAtEveryByte) {
  for (size_t split = 0; split <= kPipelined.size(); ++split) {
    Recorder recorder;
    EXPECT_TRUE(recorder.counter.Feed(kPipelined.substr(0, split))) << "split at " << split;
    EXPECT_TRUE(recorder.counter.Feed(kPipelined.substr(split))) << "split at " << split;
    EXPECT_EQ(Names(recorder.seen), Names(PipelinedClasses())) << "split at " << split;
  }
}

TEST(HttpRequestCounterTest, CountsPipelinedRequestsFedByteByByte) {
  Recorder recorder;
  for (size_t i = 0; i < kPipelined.size(); ++i) {
    ASSERT_TRUE(recorder.counter.Feed(kPipelined.substr(i, 1))) << "byte " << i;
  }
  EXPECT_EQ(Names(recorder.seen), Names(PipelinedClasses()));
}

TEST(HttpRequestCounterTest, CountsARequestWhenItsHeadEndsBeforeItsBody) {
  Recorder recorder;
  ASSERT_TRUE(recorder.counter.Feed("PUT /b/k HTTP/1.1\r\nContent-Length: 1000000\r\n\r\nab"));
  EXPECT_EQ(Names(recorder.seen), "PUT ");
  // The rest of the body, including bytes that look like a request, is skipped.
  const std::string body(1000000 - 2 - 21 - 1, 'x');
  ASSERT_TRUE(recorder.counter.Feed("GET /b/k HTTP/1.1\r\n\r\n" + body));
  ASSERT_TRUE(recorder.counter.Feed("x"));
  EXPECT_EQ(Names(recorder.seen), "PUT ");
  ASSERT_TRUE(recorder.counter.Feed("GET /b/k HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(Names(recorder.seen), "PUT GET ");
}

TEST(HttpRequestCounterTest, LargeChunkedBodyIsSkipped) {
  Recorder recorder;
  const std::string chunk(0x10000, 'z');
  std::string stream = "PUT /b/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) stream += "10000\r\n" + chunk + "\r\n";
  stream += "0\r\n\r\nHEAD /b/k HTTP/1.1\r\n\r\n";
  for (size_t offset = 0; offset < stream.size(); offset += 4093) {
    ASSERT_TRUE(recorder.counter.Feed(std::string_view(stream).substr(offset, 4093)));
  }
  EXPECT_EQ(Names(recorder.seen), "PUT HEAD ");
}

// Garbage stops the count for good: Feed returns false now and later, nothing more is counted.
void ExpectParseError(std::string_view stream, size_t counted_before) {
  Recorder recorder;
  EXPECT_FALSE(recorder.counter.Feed(stream)) << stream;
  EXPECT_TRUE(recorder.counter.failed()) << stream;
  EXPECT_EQ(recorder.seen.size(), counted_before) << stream;
  EXPECT_FALSE(recorder.counter.Feed("GET /b/k HTTP/1.1\r\n\r\n")) << stream;
  EXPECT_EQ(recorder.seen.size(), counted_before) << stream;
}

TEST(HttpRequestCounterTest, GarbageIsAParseError) {
  ExpectParseError("hello world\r\n\r\n", 0);
  ExpectParseError("\x16\x03\x01\x02 TLS hello\r\n\r\n", 0);
  ExpectParseError("GET /b/k HTTP/2.0\r\n\r\n", 0);
  ExpectParseError("GET /b/k\r\n\r\n", 0);
  ExpectParseError("GET  /b/k HTTP/1.1\r\n\r\n", 0);
  ExpectParseError("GET /b/k HTTP/1.1\r\nno colon here\r\n\r\n", 0);
  ExpectParseError("GET /b/k HTTP/1.1\r\n folded: header\r\n\r\n", 0);
  ExpectParseError("PUT /b/k HTTP/1.1\r\nContent-Length: 12a\r\n\r\n", 0);
  ExpectParseError("PUT /b/k HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 0);
  ExpectParseError("PUT /b/k HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 0);
  ExpectParseError("PUT /b/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 1);
  ExpectParseError("PUT /b/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", 1);
  ExpectParseError("HEAD /b/k HTTP/1.1\r\n\r\nnot http at all\r\n\r\n", 1);
}

TEST(HttpRequestCounterTest, OverlongHeadIsAParseError) {
  Recorder recorder;
  ASSERT_TRUE(recorder.counter.Feed("GET /b/k HTTP/1.1\r\n"));
  const std::string header = "X-Long: " + std::string(1000, 'a') + "\r\n";
  bool ok = true;
  for (int i = 0; i < 100 && ok; ++i) ok = recorder.counter.Feed(header);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(recorder.counter.failed());
  EXPECT_TRUE(recorder.seen.empty());
}

TEST(HttpRequestCounterTest, OverlongChunkLineIsAParseError) {
  Recorder recorder;
  ASSERT_TRUE(recorder.counter.Feed("PUT /b/k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  EXPECT_FALSE(recorder.counter.Feed("1;" + std::string(HttpRequestCounter::kMaxLineBytes, 'e')));
  EXPECT_EQ(Names(recorder.seen), "PUT ");
}

}  // namespace
}  // namespace s3mount
