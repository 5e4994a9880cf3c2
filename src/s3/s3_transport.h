// S3Transport: turns one S3 request (method, key, query, headers, body) into a signed HTTP
// exchange and the reply into a value or an Error. It owns what every operation shares:
// the endpoint, the signing region (updated once by a cross-region redirect), the clock-skew
// correction learnt from RequestTimeTooSkewed, the credentials lookup and the HTTP client.
//
// Thread-safety: Execute may be called from many threads at once.
// LOCK ORDERING: mu_ is a leaf, never held across a network call.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "s3mount/aws/credentials.h"
#include "s3mount/aws/http_client.h"
#include "s3mount/aws/sigv4_signer.h"
#include "s3mount/common/clock.h"
#include "s3mount/s3/curl_object_store.h"
#include "s3mount/s3/endpoint.h"

namespace s3mount {

using QueryList = std::vector<std::pair<std::string, std::string>>;

struct S3Request {
  std::string method;
  std::string key;  // empty for a bucket-level request
  QueryList query;  // decoded names and values
  HeaderList headers;
  std::string_view body;
  bool slow_reply = false;        // see HttpRequest::slow_reply
  bool fresh_connection = false;  // see HttpRequest::fresh_connection
};

class S3Transport {
 public:
  S3Transport(S3ClientOptions options, ResolvedEndpoint endpoint, CredentialsProvider& credentials,
              Clock& clock);

  // Sends the request; a reply with a status >= 300 becomes an Error (S3's code, message and
  // request id kept). With `streamer`, a 2xx body goes to it as it arrives.
  Result<HttpResponse> Execute(const S3Request& request, BodyStreamer* streamer = nullptr);

  const std::string& bucket() const { return options_.bucket; }
  std::string region() const;
  long connections_opened() const { return http_.connections_opened(); }
  std::chrono::milliseconds clock_skew() const {
    return std::chrono::milliseconds(skew_ms_.load());
  }

 private:
  struct Target {
    ResolvedEndpoint endpoint;
    std::string region;
  };
  Target CurrentTarget() const;
  Result<HttpResponse> Attempt(const S3Request& request, const Target& target,
                               const Credentials& credentials, BodyStreamer* streamer,
                               bool* learnt);
  // After a failed reply: whether it taught us something (region, clock) worth one resend.
  bool LearnFrom(const HttpResponse& response, const Error& error, const Target& target);

  const S3ClientOptions options_;
  CredentialsProvider& credentials_;
  Clock& clock_;
  HttpClient http_;
  SigV4Signer signer_;
  mutable std::mutex mu_;
  Target target_;                    // guarded by mu_
  std::atomic<int64_t> skew_ms_{0};  // server time minus our time
};

// Reads the object metadata S3 returns in HEAD/GET reply headers.
Result<ObjectInfo> ObjectInfoFromHeaders(const std::string& key, const HttpResponse& response);

}  // namespace s3mount
