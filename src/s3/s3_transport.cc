// S3Transport: signing, sending, error decoding, region redirects and clock-skew correction.
#include "s3/s3_transport.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "s3/s3_error.h"
#include "s3mount/aws/crypto.h"
#include "s3mount/aws/uri_encoding.h"
#include "s3mount/common/time_format.h"

namespace s3mount {
namespace {

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool CarriesChecksum(const HeaderList& headers) {
  return std::any_of(headers.begin(), headers.end(),
                     [](const auto& header) { return header.first == "x-amz-checksum-crc32c"; });
}

// Whether the body's SHA-256 goes into the signature. With kAuto a body that carries its
// CRC32C in a signed header is sent UNSIGNED-PAYLOAD even over http: S3 verifies the CRC32C,
// which guards against corruption (not against a forger on a plain-http path: kAlways).
bool SignPayload(PayloadSigning mode, const std::string& scheme, bool carries_checksum) {
  switch (mode) {
    case PayloadSigning::kAuto:
      return scheme != "https" && !carries_checksum;
    case PayloadSigning::kAlways:
      return true;
    case PayloadSigning::kUnsigned:
      return false;
  }
  return true;
}

}  // namespace

S3Transport::S3Transport(S3ClientOptions options, ResolvedEndpoint endpoint,
                         CredentialsProvider& credentials, Clock& clock)
    : options_(std::move(options)),
      credentials_(credentials),
      clock_(clock),
      http_(options_.http),
      target_{std::move(endpoint), options_.endpoint.region} {}

std::string S3Transport::region() const {
  std::lock_guard lock(mu_);
  return target_.region;
}

S3Transport::Target S3Transport::CurrentTarget() const {
  std::lock_guard lock(mu_);
  return target_;
}

Result<HttpResponse> S3Transport::Execute(const S3Request& request, BodyStreamer* streamer) {
  auto credentials = credentials_.GetCredentials();
  if (!credentials.ok()) {
    Error error = std::move(credentials).error();
    error.code = ErrorCode::kCredentials;
    return error;
  }
  bool learnt = false;
  auto result = Attempt(request, CurrentTarget(), *credentials, streamer, &learnt);
  if (learnt) {
    // One resend when the reply taught us the bucket's region or the server's clock.
    result = Attempt(request, CurrentTarget(), *credentials, streamer, nullptr);
  }
  return result;
}

Result<HttpResponse> S3Transport::Attempt(const S3Request& request, const Target& target,
                                          const Credentials& credentials, BodyStreamer* streamer,
                                          bool* learnt) {
  const ResolvedEndpoint& endpoint = target.endpoint;
  std::string path = endpoint.path_prefix;
  if (!request.key.empty() || path.empty()) path += "/";
  path += request.key;

  HttpRequestToSign to_sign;
  to_sign.method = request.method;
  to_sign.host = endpoint.host;
  to_sign.path = path;
  to_sign.query = request.query;
  to_sign.headers = request.headers;
  if (request.body.empty()) {
    to_sign.payload_hash = kEmptySha256;
  } else {
    to_sign.payload_hash =
        SignPayload(options_.payload_signing, endpoint.scheme, CarriesChecksum(request.headers))
            ? Sha256Hex(request.body)
            : "UNSIGNED-PAYLOAD";
  }

  HttpRequest http_request;
  http_request.method = request.method;
  http_request.url = endpoint.scheme + "://" + endpoint.host + SigV4Signer::EncodePath(path, "s3");
  if (!request.query.empty()) http_request.url += "?" + EncodeQueryString(request.query);
  http_request.headers = request.headers;
  http_request.body = request.body;
  http_request.slow_reply = request.slow_reply;
  http_request.fresh_connection = request.fresh_connection;
  if (!credentials.anonymous()) {
    SigningParams params{target.region, "s3",
                         clock_.Now() + std::chrono::milliseconds(skew_ms_.load())};
    SignedRequest signed_request = signer_.Sign(to_sign, credentials, params);
    for (auto& header : signed_request.headers_to_add) {
      http_request.headers.push_back(std::move(header));
    }
  }

  const auto started = clock_.Monotonic();
  auto response = http_.Perform(http_request, streamer);
  const auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Monotonic() - started).count();
  if (!response.ok()) {
    spdlog::debug("s3: {} {} key='{}' failed after {} ms: {}", request.method, options_.bucket,
                  request.key, elapsed_ms, response.error().ToString());
    return response;
  }
  spdlog::trace("s3: {} {} key='{}' -> {} in {} ms", request.method, options_.bucket, request.key,
                response->status, elapsed_ms);
  if (response->status >= 200 && response->status < 300) return response;

  Error error = ErrorFromResponse(static_cast<int>(response->status), response->body,
                                  response->Header("x-amz-request-id").value_or(""),
                                  request.method == "HEAD");
  if (learnt != nullptr) *learnt = LearnFrom(*response, error, target);
  return error;
}

bool S3Transport::LearnFrom(const HttpResponse& response, const Error& error,
                            const Target& target) {
  if (error.code == ErrorCode::kRequestTimeTooSkewed) {
    auto server_time = ParseHttpDate(response.Header("date").value_or(""));
    if (!server_time.ok()) return false;
    const auto skew =
        std::chrono::duration_cast<std::chrono::milliseconds>(*server_time - clock_.Now());
    skew_ms_.store(skew.count());
    spdlog::warn("s3: local clock is off by {} ms from the server's; correcting", skew.count());
    return true;
  }
  if (error.code != ErrorCode::kWrongRegion) return false;
  std::string region = response.Header("x-amz-bucket-region").value_or("");
  if (region.empty()) region = RegionFromErrorBody(response.body);
  if (region.empty() || region == target.region) return false;
  std::lock_guard lock(mu_);
  if (target_.region != target.region) return true;  // another thread already moved
  target_.region = region;
  if (options_.endpoint.endpoint_url.empty()) {
    EndpointOptions moved = options_.endpoint;
    moved.region = region;
    auto endpoint = ResolveEndpoint(moved, options_.bucket);
    if (endpoint.ok()) target_.endpoint = std::move(endpoint).value();
  }
  spdlog::info("s3: bucket {} is in region {}; following the redirect", options_.bucket, region);
  return true;
}

Result<ObjectInfo> ObjectInfoFromHeaders(const std::string& key, const HttpResponse& response) {
  ObjectInfo info;
  info.key = key;
  if (auto length = response.Header("content-length")) {
    try {
      info.size = std::stoull(*length);
    } catch (const std::exception&) {
      return MakeError(ErrorCode::kInvalidResponse, "bad Content-Length '" + *length + "'");
    }
  }
  info.etag = response.Header("etag").value_or("");
  info.content_type = response.Header("content-type").value_or("");
  info.version_id = response.Header("x-amz-version-id").value_or("");
  info.checksum_crc32c = response.Header("x-amz-checksum-crc32c").value_or("");
  info.server_side_encryption = response.Header("x-amz-server-side-encryption").value_or("");
  if (response.Header("x-amz-server-side-encryption-customer-algorithm").has_value()) {
    info.server_side_encryption = "SSE-C";
  }
  if (auto modified = response.Header("last-modified")) {
    auto time = ParseHttpDate(*modified);
    if (time.ok()) info.last_modified = *time;
  }
  for (std::string_view name : kStoredHeaderNames) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (auto value = response.Header(lower)) info.stored_headers[std::string(name)] = *value;
  }
  constexpr std::string_view kMetaPrefix = "x-amz-meta-";
  for (const auto& [name, value] : response.headers) {
    if (name.starts_with(kMetaPrefix)) {
      info.user_metadata[name.substr(kMetaPrefix.size())] = value;
    }
  }
  return info;
}

}  // namespace s3mount
