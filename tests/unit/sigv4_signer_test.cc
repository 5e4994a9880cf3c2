// Tests for the SigV4 signer: every vector of tests/testdata/sigv4/s3_vectors.json (one
// parameterized test per vector, named after it) byte for byte, plus the rules the vectors do
// not pin down: dates, header canonicalization, canonical URIs per service, anonymous
// credentials, presign expiry bounds and the signing-key cache under threads.
#include "s3mount/aws/sigv4_signer.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/aws/uri_encoding.h"
#include "tests/support/test_paths.h"

namespace s3mount {
namespace {

using std::chrono::seconds;
using Json = nlohmann::json;

constexpr char kAccessKey[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

// "20130524T000000Z" -> WallTime; fails the test on a malformed date.
WallTime ParseAmzDate(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  EXPECT_EQ(std::sscanf(s.c_str(), "%4d%2d%2dT%2d%2d%2dZ", &y, &mo, &d, &h, &mi, &sec), 6) << s;
  const std::chrono::sys_days day{std::chrono::year{y} / mo / d};
  return WallTime{day} + std::chrono::hours{h} + std::chrono::minutes{mi} + seconds{sec};
}

WallTime May24() { return ParseAmzDate("20130524T000000Z"); }

std::string Header(const SignedRequest& signed_request, std::string_view name) {
  for (const auto& [n, v] : signed_request.headers_to_add) {
    if (n == name) return v;
  }
  return "<missing " + std::string(name) + ">";
}

// "...SignedHeaders=a;b, Signature=..." -> "a;b".
std::string SignedHeadersOf(const std::string& authorization) {
  const size_t start = authorization.find("SignedHeaders=");
  if (start == std::string::npos) return "";
  const size_t from = start + std::string_view("SignedHeaders=").size();
  return authorization.substr(from, authorization.find(',', from) - from);
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> lines;
  std::stringstream in(s);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// ---- The vectors file ----------------------------------------------------------------------

struct VectorFile {
  std::vector<Json> vectors;
  std::string load_error;  // empty when loaded
};

VectorFile LoadVectors() {
  VectorFile f;
  const std::string path = testing::TestDataDir() + "/sigv4/s3_vectors.json";
  try {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    const Json doc = Json::parse(in);
    for (const Json& v : doc.at("vectors")) f.vectors.push_back(v);
  } catch (const std::exception& e) {
    f.load_error = path + ": " + e.what();
  }
  return f;
}

const VectorFile& Vectors() {
  static const VectorFile file = LoadVectors();
  return file;
}

std::string AsciiLowerForTest(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A vector turned into signer inputs.
struct VectorCase {
  HttpRequestToSign request;
  Credentials credentials;
  SigningParams params;
  bool presigned = false;
  seconds expires{0};
};

// Some vectors give only their expected canonical request (no method, path, query or
// headers). Their inputs are recovered from it: the encoding of each part is still checked
// because the signer must re-encode the decoded values to the same bytes.
void FillInputsFromCanonicalRequest(Json& v) {
  const std::vector<std::string> lines = SplitLines(v.at("canonical_request").get<std::string>());
  ASSERT_GE(lines.size(), 5u);
  v["method"] = lines[0];
  auto path = UrlDecode(lines[1], false);
  ASSERT_TRUE(path.ok()) << lines[1];
  v["path"] = *path;
  Json query = Json::array();
  std::stringstream qs(lines[2]);
  for (std::string pair; std::getline(qs, pair, '&');) {
    const size_t eq = pair.find('=');
    auto name = UrlDecode(pair.substr(0, eq), false);
    auto value = UrlDecode(eq == std::string::npos ? "" : pair.substr(eq + 1), false);
    ASSERT_TRUE(name.ok() && value.ok()) << pair;
    query.push_back({*name, *value});
  }
  v["query"] = query;
  Json headers = Json::object();
  for (size_t i = 3; i < lines.size() && !lines[i].empty(); ++i) {
    const size_t colon = lines[i].find(':');
    headers[lines[i].substr(0, colon)] = lines[i].substr(colon + 1);
  }
  v["headers"] = headers;
  v["payload_hash"] = lines.back();
}

void BuildCase(Json v, VectorCase* c) {
  if (!v.contains("method")) {
    ASSERT_NO_FATAL_FAILURE(FillInputsFromCanonicalRequest(v));
  }
  c->credentials.access_key_id = v.at("access_key_id").get<std::string>();
  c->credentials.secret_access_key = v.at("secret_access_key").get<std::string>();
  c->params = {v.at("region").get<std::string>(), v.at("service").get<std::string>(),
               ParseAmzDate(v.at("amz_date").get<std::string>())};
  c->request.method = v.at("method").get<std::string>();
  c->request.path = v.at("path").get<std::string>();
  c->request.payload_hash = v.at("payload_hash").get<std::string>();
  for (const Json& pair : v.value("query", Json::array())) {
    const auto name = pair.at(0).get<std::string>();
    const auto value = pair.at(1).get<std::string>();
    // Query auth parameters are the signer's output, not its input.
    if (name == "X-Amz-Algorithm") c->presigned = true;
    if (name == "X-Amz-Expires") c->expires = seconds{std::stoll(value)};
    if (name == "X-Amz-Security-Token") c->credentials.session_token = value;
    if (name.starts_with("X-Amz-")) continue;
    c->request.query.emplace_back(name, value);
  }
  for (const auto& [name, value] : v.at("headers").items()) {
    const std::string lname = AsciiLowerForTest(name);
    const auto text = value.get<std::string>();
    if (lname == "host") {
      c->request.host = text;
    } else if (lname == "x-amz-security-token") {
      c->credentials.session_token = text;
    } else {
      c->request.headers.emplace_back(name, text);
    }
  }
}

class SigV4VectorTest : public ::testing::TestWithParam<size_t> {};

TEST(SigV4VectorFileTest, LoadsAllVectors) {
  ASSERT_EQ(Vectors().load_error, "");
  EXPECT_GE(Vectors().vectors.size(), 12u);
}

TEST_P(SigV4VectorTest, MatchesByteForByte) {
  ASSERT_LT(GetParam(), Vectors().vectors.size());
  const Json& v = Vectors().vectors[GetParam()];
  VectorCase c;
  ASSERT_NO_FATAL_FAILURE(BuildCase(v, &c));
  const SigV4Signer signer;
  std::string signed_headers;
  std::string string_to_sign;
  std::string signature;
  std::string canonical;
  if (c.presigned) {
    const PresignedQuery p =
        signer.PresignWithDetails(c.request, c.credentials, c.params, c.expires);
    canonical = p.canonical_request;
    string_to_sign = p.string_to_sign;
    signature = p.signature;
    const auto lines = SplitLines(canonical);
    ASSERT_GE(lines.size(), 3u);
    EXPECT_EQ(p.query, lines[2] + "&X-Amz-Signature=" + signature);
    EXPECT_EQ(signer.Presign(c.request, c.credentials, c.params, c.expires), p.query);
    signed_headers = lines[lines.size() - 2];
  } else {
    const SignedRequest s = signer.Sign(c.request, c.credentials, c.params);
    canonical = s.canonical_request;
    string_to_sign = s.string_to_sign;
    signature = s.signature;
    signed_headers = SignedHeadersOf(Header(s, "Authorization"));
    EXPECT_EQ(Header(s, "Authorization"),
              "AWS4-HMAC-SHA256 Credential=" + c.credentials.access_key_id + "/" +
                  v.at("amz_date").get<std::string>().substr(0, 8) + "/" + c.params.region + "/" +
                  c.params.service + "/aws4_request, SignedHeaders=" + signed_headers +
                  ", Signature=" + signature);
    EXPECT_EQ(Header(s, "X-Amz-Date"), v.at("amz_date").get<std::string>());
    EXPECT_EQ(Header(s, "X-Amz-Content-Sha256"), c.request.payload_hash);
  }
  EXPECT_EQ(canonical, v.at("canonical_request").get<std::string>());
  if (v.contains("signed_headers")) {
    EXPECT_EQ(signed_headers, v.at("signed_headers").get<std::string>());
  }
  if (v.contains("string_to_sign")) {
    EXPECT_EQ(string_to_sign, v.at("string_to_sign").get<std::string>());
  }
  EXPECT_EQ(signature, v.at("signature").get<std::string>());

  // aws-chunked: each chunk is signed over the previous signature, starting at the seed.
  std::string previous = signature;
  for (const Json& chunk : v.value("chunks", Json::array())) {
    const std::string data(chunk.at("length").get<size_t>(),
                           chunk.at("byte").get<std::string>()[0]);
    const std::string chunk_signature = signer.SignChunk(previous, data, c.credentials, c.params);
    EXPECT_EQ(chunk_signature, chunk.at("signature").get<std::string>())
        << "chunk of " << data.size() << " bytes";
    previous = chunk_signature;
  }
}

std::string VectorName(const ::testing::TestParamInfo<size_t>& info) {
  std::string name = "vector" + std::to_string(info.param);
  if (info.param < Vectors().vectors.size()) {
    name += "_";
    bool underscore = true;
    for (char ch : Vectors().vectors[info.param].value("name", std::string())) {
      if (std::isalnum(static_cast<unsigned char>(ch))) {
        name.push_back(ch);
        underscore = false;
      } else if (!underscore) {
        name.push_back('_');
        underscore = true;
      }
    }
    while (!name.empty() && name.back() == '_') name.pop_back();
  }
  return name;
}

std::vector<size_t> VectorIndices() {
  std::vector<size_t> indices(Vectors().vectors.size());
  for (size_t i = 0; i < indices.size(); ++i) indices[i] = i;
  return indices;
}

INSTANTIATE_TEST_SUITE_P(S3Vectors, SigV4VectorTest, ::testing::ValuesIn(VectorIndices()),
                         VectorName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SigV4VectorTest);  // LoadsAllVectors fails then

// ---- Rules beyond the vectors --------------------------------------------------------------

Credentials Keys(std::string token = "") {
  return {kAccessKey, kSecret, std::move(token), std::nullopt};
}

HttpRequestToSign SimpleGet(std::string path) {
  HttpRequestToSign r;
  r.method = "GET";
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = std::move(path);
  r.payload_hash = Sha256Hex("");
  return r;
}

TEST(FormatAmzDateTest, FormatsUtcAndTruncatesSubseconds) {
  EXPECT_EQ(FormatAmzDate(WallTime{}), "19700101T000000Z");
  EXPECT_EQ(FormatAmzDate(May24()), "20130524T000000Z");
  EXPECT_EQ(FormatAmzDate(May24() + std::chrono::milliseconds(999)), "20130524T000000Z");
  EXPECT_EQ(FormatAmzDate(May24() - std::chrono::milliseconds(1)), "20130523T235959Z");
  EXPECT_EQ(FormatAmzDate(ParseAmzDate("20240229T235959Z")), "20240229T235959Z");
  EXPECT_EQ(FormatAmzDate(WallTime{} - seconds{1}), "19691231T235959Z");
  EXPECT_EQ(FormatAmzDate(WallTime{} + seconds{4102444800}), "21000101T000000Z");
}

TEST(SigV4SignerTest, AnonymousCredentialsAreNotSigned) {
  const SigV4Signer signer;
  HttpRequestToSign r = SimpleGet("/a b");
  r.query = {{"list-type", "2"}, {"prefix", "a/"}};
  const SignedRequest s = signer.Sign(r, Credentials{}, {"us-east-1", "s3", May24()});
  EXPECT_TRUE(s.headers_to_add.empty());
  EXPECT_EQ(s.signature, "");
  EXPECT_EQ(signer.Presign(r, Credentials{}, {"us-east-1", "s3", May24()}, seconds{60}),
            "list-type=2&prefix=a%2F");
  EXPECT_EQ(signer.SignChunk("seed", "data", Credentials{}, {"us-east-1", "s3", May24()}), "");
}

TEST(SigV4SignerTest, S3CanonicalUriIsEncodedOnceAndNotNormalized) {
  EXPECT_EQ(SigV4Signer::CanonicalUri("/b//a/./c/../d e+f", "s3"), "/b//a/./c/../d%20e%2Bf");
  EXPECT_EQ(SigV4Signer::EncodePath("/b//a/./c/../d e+f", "s3"), "/b//a/./c/../d%20e%2Bf");
  EXPECT_EQ(SigV4Signer::CanonicalUri("", "s3"), "/");
  const SignedRequest s =
      SigV4Signer().Sign(SimpleGet("/dir one//./x"), Keys(), {"us-east-1", "s3", May24()});
  EXPECT_EQ(SplitLines(s.canonical_request)[1], "/dir%20one//./x");
}

TEST(SigV4SignerTest, OtherServicesNormalizeAndEncodeTwice) {
  EXPECT_EQ(SigV4Signer::CanonicalUri("/a//b/../c d/./", "sqs"), "/a/c%2520d/");
  EXPECT_EQ(SigV4Signer::CanonicalUri("/a/b/..", "sts"), "/a");
  EXPECT_EQ(SigV4Signer::CanonicalUri("/..", "sts"), "/");
  EXPECT_EQ(SigV4Signer::CanonicalUri("/", "sqs"), "/");
  EXPECT_EQ(SigV4Signer::CanonicalUri("", "sqs"), "/");
  EXPECT_EQ(SigV4Signer::CanonicalUri("/123/queue~x", "sqs"), "/123/queue~x");
  // The wire path is encoded once for every service.
  EXPECT_EQ(SigV4Signer::EncodePath("/a//b/../c d/./", "sqs"), "/a//b/../c%20d/./");
}

TEST(SigV4SignerTest, HeadersAreLoweredTrimmedSortedAndRepeatsJoined) {
  HttpRequestToSign r = SimpleGet("/k");
  r.headers = {{"X-Amz-Meta-B", "  two   words\t here "},
               {"x-amz-meta-a", "first"},
               {"x-amz-meta-b", "second"},
               {"Content-Type", ""}};
  const SignedRequest s = SigV4Signer().Sign(r, Keys(), {"us-east-1", "s3", May24()});
  EXPECT_EQ(s.canonical_request,
            "GET\n/k\n\ncontent-type:\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:" +
                Sha256Hex("") +
                "\nx-amz-date:20130524T000000Z\n"
                "x-amz-meta-a:first\nx-amz-meta-b:two words here,second\n\n"
                "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-meta-a;x-amz-meta-b\n" +
                Sha256Hex(""));
}

TEST(SigV4SignerTest, SignerOwnedHeadersFromTheCallerAreReplaced) {
  HttpRequestToSign r = SimpleGet("/k");
  const SignedRequest clean = SigV4Signer().Sign(r, Keys("tok"), {"us-east-1", "s3", May24()});
  r.headers = {{"X-Amz-Date", "19990101T000000Z"},
               {"host", "evil.example.com"},
               {"Authorization", "old"},
               {"x-amz-content-sha256", "bogus"},
               {"X-Amz-Security-Token", "stale"}};
  const SignedRequest s = SigV4Signer().Sign(r, Keys("tok"), {"us-east-1", "s3", May24()});
  EXPECT_EQ(s.canonical_request, clean.canonical_request);
  EXPECT_EQ(s.signature, clean.signature);
  EXPECT_EQ(Header(s, "X-Amz-Security-Token"), "tok");
}

TEST(SigV4SignerTest, NonS3ServicesGetNoContentSha256Header) {
  HttpRequestToSign r = SimpleGet("/");
  r.host = "sqs.us-east-1.amazonaws.com";
  r.method = "POST";
  r.payload_hash = Sha256Hex("Action=ListQueues");
  const SignedRequest s = SigV4Signer().Sign(r, Keys(), {"us-east-1", "sqs", May24()});
  EXPECT_EQ(SignedHeadersOf(Header(s, "Authorization")), "host;x-amz-date");
  EXPECT_EQ(Header(s, "X-Amz-Content-Sha256"), "<missing X-Amz-Content-Sha256>");
  EXPECT_EQ(SplitLines(s.canonical_request).back(), r.payload_hash);
  EXPECT_EQ(s.headers_to_add.size(), 2u);  // Authorization, X-Amz-Date
}

TEST(SigV4SignerTest, SignatureDependsOnEveryScopePart) {
  const SigV4Signer signer;
  const HttpRequestToSign r = SimpleGet("/k");
  const std::string base = signer.Sign(r, Keys(), {"us-east-1", "s3", May24()}).signature;
  EXPECT_NE(signer.Sign(r, Keys(), {"us-west-2", "s3", May24()}).signature, base);
  EXPECT_NE(signer.Sign(r, Keys(), {"us-east-1", "s3", May24() + std::chrono::hours(24)}).signature,
            base);
  Credentials other = Keys();
  other.secret_access_key.back() = 'X';
  EXPECT_NE(signer.Sign(r, other, {"us-east-1", "s3", May24()}).signature, base);
  // And the cache gives the same answer the second time.
  EXPECT_EQ(signer.Sign(r, Keys(), {"us-east-1", "s3", May24()}).signature, base);
}

TEST(SigV4SignerTest, PresignClampsExpiryToWhatAwsAccepts) {
  const SigV4Signer signer;
  const HttpRequestToSign r = SimpleGet("/k");
  const SigningParams p{"us-east-1", "s3", May24()};
  EXPECT_NE(signer.Presign(r, Keys(), p, seconds{0}).find("X-Amz-Expires=1&"), std::string::npos);
  EXPECT_NE(signer.Presign(r, Keys(), p, seconds{30 * 86400}).find("X-Amz-Expires=604800&"),
            std::string::npos);
  const std::string q = signer.Presign(r, Keys(), p, seconds{3600});
  EXPECT_NE(q.find("X-Amz-Expires=3600&"), std::string::npos);
  EXPECT_EQ(q.find("X-Amz-Security-Token"), std::string::npos);
}

TEST(SigV4SignerTest, KeyCacheIsCorrectWhenSmallAndUnderThreads) {
  // Reference signatures from a fresh signer per request, then the same requests from one
  // signer with a 2-entry cache hammered by 4 threads: evictions and races must not change
  // any signature.
  std::vector<Credentials> creds;
  std::vector<SigningParams> params;
  std::vector<std::string> expected;
  const HttpRequestToSign r = SimpleGet("/k");
  for (int i = 0; i < 12; ++i) {
    Credentials c = Keys();
    c.secret_access_key += std::to_string(i % 4);
    creds.push_back(c);
    params.push_back({i % 2 ? "eu-west-1" : "us-east-1", i % 3 ? "s3" : "sqs",
                      May24() + std::chrono::hours(24 * (i % 3))});
    expected.push_back(SigV4Signer().Sign(r, creds.back(), params.back()).signature);
  }
  const SigV4Signer shared(2);
  std::vector<std::string> failures(4);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        const size_t i = static_cast<size_t>(round * 5 + t) % creds.size();
        if (shared.Sign(r, creds[i], params[i]).signature != expected[i]) {
          failures[static_cast<size_t>(t)] = "request " + std::to_string(i);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) EXPECT_EQ(f, "");
}

}  // namespace
}  // namespace s3mount
