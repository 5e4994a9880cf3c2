// AWS Signature Version 4 signing (see sigv4_signer.h). The canonical forms follow botocore's
// SigV4Auth / S3SigV4Auth (botocore/auth.py) so the two agree byte for byte.
#include "s3mount/aws/sigv4_signer.h"

#include <algorithm>
#include <cstdio>

#include "s3mount/aws/uri_encoding.h"
#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::chrono::seconds kMaxPresignExpiry{7 * 24 * 3600};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

bool IsS3(std::string_view service) { return service == "s3"; }

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// SigV4 Trimall: no leading or trailing whitespace, inner runs of whitespace become one space.
std::string TrimAll(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// RFC 3986 5.2.4 plus the removal of empty segments, exactly as botocore's
// remove_dot_segments: "/a//b/../c/./" -> "/a/c/".
std::string RemoveDotSegments(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out += segments[i];
  }
  if (path.back() == '/' && !segments.empty()) out.push_back('/');
  return out;
}

// The caller's headers, lower-cased, without the ones the signer sets itself.
HeaderList CallerHeaders(const HttpRequestToSign& request, bool s3) {
  HeaderList out;
  out.reserve(request.headers.size() + 4);
  for (const auto& [name, value] : request.headers) {
    std::string lname = AsciiLower(TrimAll(name));
    if (lname == "host" || lname == "authorization" || lname == "x-amz-date" ||
        lname == "x-amz-security-token" || (s3 && lname == "x-amz-content-sha256")) {
      continue;
    }
    out.emplace_back(std::move(lname), value);
  }
  return out;
}

struct CanonicalHeaders {
  std::string canonical;     // "name:value\n" for each name
  std::string signed_names;  // "name1;name2"
};

// Sorts by name (stable, so repeated names keep their order) and joins repeats with ','.
CanonicalHeaders Canonicalize(HeaderList headers) {
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (size_t i = 0; i < headers.size(); ++i) {
    const bool repeat = i > 0 && headers[i].first == headers[i - 1].first;
    if (repeat) {
      out.canonical.pop_back();  // the '\n' of the previous value
      out.canonical.push_back(',');
    } else {
      if (!out.signed_names.empty()) out.signed_names.push_back(';');
      out.signed_names += headers[i].first;
      out.canonical += headers[i].first;
      out.canonical.push_back(':');
    }
    out.canonical += TrimAll(headers[i].second);
    out.canonical.push_back('\n');
  }
  return out;
}

std::string CanonicalRequest(std::string_view method, std::string_view uri, std::string_view query,
                             const CanonicalHeaders& headers, std::string_view payload_hash) {
  std::string out;
  out.reserve(method.size() + uri.size() + query.size() + headers.canonical.size() +
              headers.signed_names.size() + payload_hash.size() + 8);
  out.append(method).append("\n");
  out.append(uri).append("\n");
  out.append(query).append("\n");
  out.append(headers.canonical).append("\n");
  out.append(headers.signed_names).append("\n");
  out.append(payload_hash);
  return out;
}

std::string Scope(std::string_view date, const SigningParams& params) {
  std::string out(date);
  out.append("/").append(params.region).append("/").append(params.service);
  out.append("/aws4_request");
  return out;
}

std::string StringToSign(std::string_view algorithm, std::string_view amz_date,
                         std::string_view scope, std::string_view last_line) {
  std::string out(algorithm);
  out.append("\n").append(amz_date).append("\n").append(scope).append("\n").append(last_line);
  return out;
}

std::string_view AsStringView(const Sha256Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

}  // namespace

std::string FormatAmzDate(WallTime time) {
  using std::chrono::days;
  using std::chrono::floor;
  using std::chrono::seconds;
  const auto secs = floor<seconds>(time);
  const auto day = floor<days>(secs);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss<seconds> hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

SigV4Signer::SigV4Signer(size_t key_cache_capacity)
    : key_cache_capacity_(std::max<size_t>(1, key_cache_capacity)) {}

std::string SigV4Signer::EncodePath(std::string_view decoded_path, std::string_view /*service*/) {
  if (decoded_path.empty()) return "/";
  return UriEncode(decoded_path, /*encode_slash=*/false);
}

std::string SigV4Signer::CanonicalUri(std::string_view decoded_path, std::string_view service) {
  std::string wire = EncodePath(decoded_path, service);
  if (IsS3(service)) return wire;
  return UriEncode(RemoveDotSegments(wire), /*encode_slash=*/false);
}

Sha256Digest SigV4Signer::SigningKey(const Credentials& credentials, const std::string& date,
                                     const SigningParams& params) const {
  KeyCacheKey cache_key{Sha256(credentials.secret_access_key), date, params.region, params.service};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = key_cache_.find(cache_key);
    if (it != key_cache_.end()) return it->second;
  }
  const Sha256Digest k_date = HmacSha256("AWS4" + credentials.secret_access_key, date);
  const Sha256Digest k_region = HmacSha256(AsStringView(k_date), params.region);
  const Sha256Digest k_service = HmacSha256(AsStringView(k_region), params.service);
  const Sha256Digest k_signing = HmacSha256(AsStringView(k_service), "aws4_request");

  std::lock_guard<std::mutex> lock(mu_);
  if (key_cache_.emplace(cache_key, k_signing).second) {
    key_cache_order_.push_back(std::move(cache_key));
    while (key_cache_.size() > key_cache_capacity_) {
      key_cache_.erase(key_cache_order_.front());
      key_cache_order_.pop_front();
    }
  }
  return k_signing;
}

SignedRequest SigV4Signer::Sign(const HttpRequestToSign& request, const Credentials& credentials,
                                const SigningParams& params) const {
  SignedRequest out;
  if (credentials.anonymous()) return out;
  const bool s3 = IsS3(params.service);
  const std::string amz_date = FormatAmzDate(params.time);
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = Scope(date, params);

  HeaderList headers = CallerHeaders(request, s3);
  headers.emplace_back("host", request.host);
  headers.emplace_back("x-amz-date", amz_date);
  if (s3) headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  if (!credentials.session_token.empty()) {
    headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  const CanonicalHeaders canonical_headers = Canonicalize(std::move(headers));

  out.canonical_request =
      CanonicalRequest(request.method, CanonicalUri(request.path, params.service),
                       EncodeQueryString(request.query), canonical_headers, request.payload_hash);
  out.string_to_sign = StringToSign(kAlgorithm, amz_date, scope, Sha256Hex(out.canonical_request));
  out.signature = HexEncode(
      HmacSha256(AsStringView(SigningKey(credentials, date, params)), out.string_to_sign));

  std::string authorization(kAlgorithm);
  authorization.append(" Credential=").append(credentials.access_key_id).append("/");
  authorization.append(scope).append(", SignedHeaders=").append(canonical_headers.signed_names);
  authorization.append(", Signature=").append(out.signature);
  out.headers_to_add.emplace_back("Authorization", std::move(authorization));
  out.headers_to_add.emplace_back("X-Amz-Date", amz_date);
  if (s3) out.headers_to_add.emplace_back("X-Amz-Content-Sha256", request.payload_hash);
  if (!credentials.session_token.empty()) {
    out.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  return out;
}

PresignedQuery SigV4Signer::PresignWithDetails(const HttpRequestToSign& request,
                                               const Credentials& credentials,
                                               const SigningParams& params,
                                               std::chrono::seconds expires) const {
  PresignedQuery out;
  if (credentials.anonymous()) {
    out.query = EncodeQueryString(request.query);
    return out;
  }
  const std::string amz_date = FormatAmzDate(params.time);
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = Scope(date, params);
  expires = std::clamp(expires, std::chrono::seconds{1}, kMaxPresignExpiry);

  HeaderList headers = CallerHeaders(request, IsS3(params.service));
  headers.emplace_back("host", request.host);
  const CanonicalHeaders canonical_headers = Canonicalize(std::move(headers));

  auto query = request.query;
  query.emplace_back("X-Amz-Algorithm", kAlgorithm);
  query.emplace_back("X-Amz-Credential", credentials.access_key_id + "/" + scope);
  query.emplace_back("X-Amz-Date", amz_date);
  query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  query.emplace_back("X-Amz-SignedHeaders", canonical_headers.signed_names);
  if (!credentials.session_token.empty()) {
    query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  const std::string canonical_query = EncodeQueryString(query);
  const std::string_view payload_hash =
      request.payload_hash.empty() ? kUnsignedPayload : std::string_view(request.payload_hash);

  out.canonical_request =
      CanonicalRequest(request.method, CanonicalUri(request.path, params.service), canonical_query,
                       canonical_headers, payload_hash);
  out.string_to_sign = StringToSign(kAlgorithm, amz_date, scope, Sha256Hex(out.canonical_request));
  out.signature = HexEncode(
      HmacSha256(AsStringView(SigningKey(credentials, date, params)), out.string_to_sign));
  out.query = canonical_query + "&X-Amz-Signature=" + out.signature;
  return out;
}

std::string SigV4Signer::Presign(const HttpRequestToSign& request, const Credentials& credentials,
                                 const SigningParams& params, std::chrono::seconds expires) const {
  return PresignWithDetails(request, credentials, params, expires).query;
}

std::string SigV4Signer::SignChunk(std::string_view previous_signature, std::string_view chunk_data,
                                   const Credentials& credentials,
                                   const SigningParams& params) const {
  if (credentials.anonymous()) return "";
  const std::string amz_date = FormatAmzDate(params.time);
  const std::string date = amz_date.substr(0, 8);
  std::string last_lines(previous_signature);
  last_lines.append("\n").append(kEmptySha256).append("\n").append(Sha256Hex(chunk_data));
  const std::string string_to_sign =
      StringToSign("AWS4-HMAC-SHA256-PAYLOAD", amz_date, Scope(date, params), last_lines);
  return HexEncode(HmacSha256(AsStringView(SigningKey(credentials, date, params)), string_to_sign));
}

}  // namespace s3mount
