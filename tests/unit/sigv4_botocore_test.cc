// Differential test of the SigV4 signer against botocore (tests/tools/botocore_sign.py):
// a few hundred random requests from a fixed seed (awkward keys, UTF-8, "//" and dot
// segments, odd query values, repeated and badly spaced headers, five methods, services s3,
// sqs and sts, with and without a session token, header and presigned auth) must give the
// same wire path, canonical request and Authorization header / presigned query as botocore.
// python3 with botocore is required: without it this test fails (CI installs it). The
// interpreter is `python3` from PATH, or $S3MOUNT_PYTHON when set.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "s3mount/aws/crypto.h"
#include "s3mount/aws/sigv4_signer.h"
#include "tests/support/test_paths.h"

namespace s3mount {
namespace {

using Json = nlohmann::json;

constexpr int kRequestCount = 400;
constexpr uint64_t kSeed = 20130524;

// Only the raw engine output is used: std::*_distribution differ between standard libraries,
// mt19937_64's sequence does not.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  size_t Below(size_t n) { return static_cast<size_t>(engine_() % n); }
  bool OneIn(size_t n) { return Below(n) == 0; }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Below(items.size())];
  }

 private:
  std::mt19937_64 engine_;
};

// Pieces random names are made of: every reserved character the brief lists, UTF-8 of 2, 3
// and 4 bytes, '%' and friends.
const std::vector<std::string>& NamePieces() {
  static const std::vector<std::string> pieces = {"a",
                                                  "Z",
                                                  "k",
                                                  "0",
                                                  "9",
                                                  "-",
                                                  "_",
                                                  ".",
                                                  "~",
                                                  " ",
                                                  "  ",
                                                  "+",
                                                  "=",
                                                  "&",
                                                  "$",
                                                  "@",
                                                  ":",
                                                  "*",
                                                  "(",
                                                  ")",
                                                  ",",
                                                  ";",
                                                  "'",
                                                  "%",
                                                  "%20",
                                                  "?",
                                                  "#",
                                                  "!",
                                                  "[",
                                                  "]",
                                                  "\"",
                                                  "<",
                                                  "^",
                                                  "\xc3\xbc",
                                                  "\xe6\x97\xa5\xe6\x9c\xac",
                                                  "\xf0\x9f\x98\x80",
                                                  "file",
                                                  "dir",
                                                  "a+b"};
  return pieces;
}

std::string RandomText(Rng& rng, size_t max_pieces) {
  std::string out;
  const size_t n = rng.Below(max_pieces + 1);
  for (size_t i = 0; i < n; ++i) out += rng.Pick(NamePieces());
  return out;
}

std::string RandomToken(Rng& rng, std::string_view alphabet, size_t length) {
  std::string out;
  for (size_t i = 0; i < length; ++i) out.push_back(alphabet[rng.Below(alphabet.size())]);
  return out;
}

std::string RandomPath(Rng& rng) {
  if (rng.OneIn(10)) return "/";
  std::string path;
  const size_t segments = 1 + rng.Below(5);
  for (size_t i = 0; i < segments; ++i) {
    path.push_back('/');
    switch (rng.Below(8)) {
      case 0:
        break;  // empty segment: "//"
      case 1:
        path += ".";
        break;
      case 2:
        path += "..";
        break;
      default:
        path += RandomText(rng, 5);
        break;
    }
  }
  if (rng.OneIn(4)) path.push_back('/');
  return path;
}

// ASCII header values with leading, trailing and inner runs of spaces and tabs.
std::string RandomHeaderValue(Rng& rng) {
  static const std::vector<std::string> pieces = {
      "a", "b", "text/plain", "bytes=0-9", "\"etag\"", " ", "   ", "\t", ":", ",", "=", "/"};
  std::string out;
  const size_t n = rng.Below(7);
  for (size_t i = 0; i < n; ++i) out += rng.Pick(pieces);
  return out;
}

Json RandomHeaders(Rng& rng, const std::string& service, bool presign) {
  static const std::vector<std::string> names = {
      "Content-Type",        "Range",           "If-Match",
      "x-amz-meta-mode",     "X-Amz-Meta-Mode", "X-AMZ-META-UID",
      "x-amz-storage-class", "Content-MD5",     "x-amz-copy-source",
      "X-Amz-Target"};
  Json headers = Json::array();
  const size_t n = rng.Below(5);
  for (size_t i = 0; i < n; ++i) {
    const std::string& name = rng.Pick(names);
    headers.push_back({name, RandomHeaderValue(rng)});
    if (rng.OneIn(3)) headers.push_back({name, RandomHeaderValue(rng)});  // repeated
  }
  // Headers the signer owns: both sides must replace what the caller put there. (Presigning
  // botocore would sign them as given; our signer drops them, by contract.)
  if (presign) return headers;
  if (rng.OneIn(8)) headers.push_back({"X-Amz-Date", "19990101T000000Z"});
  if (service == "s3" && rng.OneIn(8)) headers.push_back({"x-amz-content-sha256", "stale"});
  return headers;
}

Json RandomQuery(Rng& rng, bool unique_names) {
  Json query = Json::array();
  std::vector<std::string> seen;
  const size_t n = rng.Below(5);
  for (size_t i = 0; i < n; ++i) {
    std::string name = rng.OneIn(4) ? "prefix" : RandomText(rng, 3);
    if (name.empty()) name = "uploads";
    if (unique_names && std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
    seen.push_back(name);
    std::string value = rng.OneIn(4) ? "" : RandomText(rng, 4);
    if (rng.OneIn(5)) value = "dir/sub/";
    query.push_back({name, value});
    if (!unique_names && rng.OneIn(6)) query.push_back({name, RandomText(rng, 2)});
  }
  return query;
}

Json RandomRequest(Rng& rng, int id) {
  static const std::vector<std::string> services = {"s3", "s3", "sqs", "sts"};
  static const std::vector<std::string> methods = {"GET", "PUT", "POST", "DELETE", "HEAD"};
  static const std::vector<std::string> regions = {"us-east-1", "eu-west-3", "ap-southeast-2",
                                                   "cn-north-1"};
  static const std::vector<std::pair<std::string, std::string>> endpoints = {
      {"https", "examplebucket.s3.amazonaws.com"},
      {"https", "s3.eu-west-3.amazonaws.com"},
      {"http", "127.0.0.1:9000"},
      {"http", "localhost:4566"},
      {"https", "sqs.us-east-1.amazonaws.com"},
      {"https", "sts.amazonaws.com"}};
  constexpr std::string_view kUpperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  constexpr std::string_view kBase64 =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

  Json r;
  r["id"] = id;
  r["service"] = rng.Pick(services);
  const bool s3 = r["service"] == "s3";
  r["kind"] = rng.OneIn(6) ? "presign" : "header";
  const bool presign = r["kind"] == "presign";
  r["region"] = rng.Pick(regions);
  const auto& endpoint = rng.Pick(endpoints);
  r["scheme"] = endpoint.first;
  r["host"] = endpoint.second;
  r["method"] = rng.Pick(methods);
  r["path"] = RandomPath(rng);
  r["query"] = RandomQuery(rng, presign);
  r["headers"] = RandomHeaders(rng, r["service"], presign);
  r["body"] = presign || rng.OneIn(2) ? "" : RandomText(rng, 6);
  r["unsigned_payload"] = s3 && !presign && rng.OneIn(4);
  r["access_key"] = "AKIA" + RandomToken(rng, kUpperAlnum, 16);
  r["secret_key"] = RandomToken(rng, kBase64, 40);
  r["token"] = rng.OneIn(2) ? Json(RandomToken(rng, kBase64, 20 + rng.Below(200))) : Json();
  // 2000-01-01 .. 2037-12-31, plus milliseconds the signer must truncate.
  r["epoch_seconds"] = 946684800 + static_cast<int64_t>(rng.Below(1198800000));
  r["millis"] = rng.Below(1000);
  r["expires"] = 1 + rng.Below(604800);
  return r;
}

std::vector<std::pair<std::string, std::string>> Pairs(const Json& array) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Json& p : array)
    out.emplace_back(p.at(0).get<std::string>(), p.at(1).get<std::string>());
  return out;
}

// Our side of one request, in the shape botocore_sign.py answers.
Json SignWithUs(const SigV4Signer& signer, const Json& r) {
  HttpRequestToSign req;
  req.method = r["method"];
  req.host = r["host"];
  req.path = r["path"];
  req.query = Pairs(r["query"]);
  req.headers = Pairs(r["headers"]);
  const bool s3 = r["service"] == "s3";
  if (r["kind"] == "presign") {
    req.payload_hash = s3 ? "UNSIGNED-PAYLOAD" : Sha256Hex("");
  } else {
    req.payload_hash = r["unsigned_payload"].get<bool>() ? "UNSIGNED-PAYLOAD"
                                                         : Sha256Hex(r["body"].get<std::string>());
  }
  const Credentials creds{r["access_key"], r["secret_key"],
                          r["token"].is_null() ? "" : r["token"].get<std::string>(), std::nullopt};
  const SigningParams params{r["region"], r["service"],
                             WallTime{} + std::chrono::seconds{r["epoch_seconds"].get<int64_t>()} +
                                 std::chrono::milliseconds{r["millis"].get<int64_t>()}};
  Json out;
  out["wire_path"] = SigV4Signer::EncodePath(req.path, params.service);
  if (r["kind"] == "presign") {
    const PresignedQuery p = signer.PresignWithDetails(
        req, creds, params, std::chrono::seconds{r["expires"].get<int64_t>()});
    out["canonical_request"] = p.canonical_request;
    out["string_to_sign"] = p.string_to_sign;
    out["query"] = p.query;
  } else {
    const SignedRequest s = signer.Sign(req, creds, params);
    out["canonical_request"] = s.canonical_request;
    out["string_to_sign"] = s.string_to_sign;
    for (const auto& [name, value] : s.headers_to_add) {
      if (name == "Authorization") out["authorization"] = value;
    }
  }
  return out;
}

// Query parameters in a canonical order, so that botocore's URL order (X-Amz-Security-Token
// after X-Amz-SignedHeaders, X-Amz-Signature last) compares equal to ours.
std::string SortedQuery(const std::string& query) {
  std::vector<std::string> parts;
  std::stringstream in(query);
  for (std::string part; std::getline(in, part, '&');) parts.push_back(part);
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += p + "\n";
  return out;
}

// "" when ours equals botocore's, else what differs.
std::string Compare(const Json& ours, const Json& theirs) {
  if (theirs.contains("error")) return "botocore raised: " + theirs["error"].dump();
  std::string diff;
  for (const char* field : {"wire_path", "canonical_request", "string_to_sign", "authorization"}) {
    if (ours.value(field, Json()) != theirs.value(field, Json())) {
      diff += std::string("--- ") + field + "\n  ours:     " + ours.value(field, Json()).dump() +
              "\n  botocore: " + theirs.value(field, Json()).dump() + "\n";
    }
  }
  if (ours.contains("query") &&
      SortedQuery(ours["query"]) != SortedQuery(theirs.value("query", std::string()))) {
    diff += "--- query\n  ours:     " + ours["query"].dump() +
            "\n  botocore: " + theirs.value("query", Json()).dump() + "\n";
  }
  return diff;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Deletes the temporary files of one run, however the test ends.
struct TempFiles {
  std::filesystem::path input;
  std::filesystem::path errors;
  ~TempFiles() {
    std::error_code ec;
    std::filesystem::remove(input, ec);
    std::filesystem::remove(errors, ec);
  }
};

struct PipeCloser {
  void operator()(FILE* f) const {
    if (f != nullptr) pclose(f);
  }
};

// Runs botocore_sign.py on `requests`; fails the test with the script's stderr if it fails.
void RunBotocore(const Json& requests, Json* results) {
  const std::string script = testing::SourceDir() + "/tests/tools/botocore_sign.py";
  ASSERT_TRUE(std::filesystem::exists(script)) << "missing " << script;
  const std::string stem =
      (std::filesystem::temp_directory_path() / ("s3mount_sigv4_" + std::to_string(::getpid())))
          .string();
  TempFiles files{stem + ".in.json", stem + ".err"};
  {
    std::ofstream out(files.input);
    out << requests.dump();
    ASSERT_TRUE(out.good()) << "cannot write " << files.input;
  }
  const char* python_env = std::getenv("S3MOUNT_PYTHON");
  const std::string python = python_env != nullptr && *python_env != '\0' ? python_env : "python3";
  const std::string command = ShellQuote(python) + " " + ShellQuote(script) + " < " +
                              ShellQuote(files.input.string()) + " 2> " +
                              ShellQuote(files.errors.string());
  std::unique_ptr<FILE, PipeCloser> pipe(popen(command.c_str(), "r"));
  ASSERT_NE(pipe, nullptr) << "popen failed: " << command;
  std::string output;
  char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe.get())) > 0;) output.append(buf, n);
  const int status = pclose(pipe.release());
  ASSERT_EQ(status, 0) << "`" << command << "` failed (status " << status
                       << "). This test needs python3 with botocore (python3 -m pip install "
                          "botocore; S3MOUNT_PYTHON selects the interpreter). stderr:\n"
                       << ReadFile(files.errors);
  try {
    *results = Json::parse(output);
  } catch (const std::exception& e) {
    FAIL() << "botocore_sign.py printed invalid JSON (" << e.what() << "):\n"
           << output.substr(0, 2000) << "\nstderr:\n"
           << ReadFile(files.errors);
  }
}

TEST(SigV4BotocoreTest, MatchesBotocoreOnRandomRequests) {
  Rng rng(kSeed);
  Json requests = Json::array();
  for (int i = 0; i < kRequestCount; ++i) requests.push_back(RandomRequest(rng, i));

  Json results;
  ASSERT_NO_FATAL_FAILURE(RunBotocore(requests, &results));
  ASSERT_TRUE(results.is_array());
  ASSERT_EQ(results.size(), requests.size());

  const SigV4Signer signer;
  std::map<std::string, int> coverage;
  for (size_t i = 0; i < requests.size(); ++i) {
    const Json& r = requests[i];
    ASSERT_EQ(results[i].value("id", -1), r["id"].get<int>()) << "results out of order";
    const std::string diff = Compare(SignWithUs(signer, r), results[i]);
    ASSERT_EQ(diff, "") << "request " << i << " differs from botocore:\n"
                        << r.dump(2, ' ', false, Json::error_handler_t::replace) << "\n"
                        << diff;
    coverage[r["service"].get<std::string>() + "/" + r["kind"].get<std::string>()]++;
    coverage[r["method"].get<std::string>()]++;
    if (!r["token"].is_null()) coverage["token"]++;
  }
  // The generator really produced every kind of request (guards against edits to it).
  for (const char* key : {"s3/header", "s3/presign", "sqs/header", "sqs/presign", "sts/header",
                          "GET", "PUT", "POST", "DELETE", "HEAD", "token"}) {
    EXPECT_GE(coverage[key], 5) << key;
  }
}

}  // namespace
}  // namespace s3mount
