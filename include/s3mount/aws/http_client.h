// HttpClient: the libcurl transport under CurlObjectStore (and later the SQS and STS
// clients). It owns a pool of reusable easy handles, so connections stay alive between
// requests, and a share handle so that DNS answers and TLS sessions are reused by every
// thread. Bodies go out from the caller's memory and come back either buffered (small
// replies, errors) or streamed chunk by chunk to a callback; nothing copies a whole object.
// It knows HTTP, not S3: replies of any status are values; only transport failures are
// Errors (kNetwork, kTimeout, kTruncatedBody, kTls, or the body callback's own error).
//
// Thread-safety: Perform may be called from any number of threads at once.
// LOCK ORDERING: pool_mu_ and the share locks are leaves; no lock is held during a transfer
// except the share locks libcurl takes itself.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3mount/common/result.h"

namespace s3mount {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;     // fully encoded
  HeaderList headers;
  std::string_view body;  // not owned; sent for PUT and POST
  // When set and it becomes true, the transfer stops within about a second with kCancelled
  // (a long poll cut short at shutdown). Not owned.
  const std::atomic<bool>* cancel = nullptr;
  // A reply the server may take minutes to produce while it sends nothing, or only
  // whitespace (CompleteMultipartUpload, CopyObject): no low-speed cut, only the options'
  // slow_reply_timeout on the whole request.
  bool slow_reply = false;
  // On a new connection: libcurl resends a request by itself, once, when a reused connection
  // dies before any reply, which for a request that is not idempotent (a Complete the server
  // may have applied) is a blind resend. On a fresh connection it never does.
  bool fresh_connection = false;
};

struct HttpResponse {
  long status = 0;
  HeaderList headers;  // names lower-cased, in arrival order
  std::string body;    // the body, unless it was streamed

  // The value of the first header named `name` (lower case), if any.
  std::optional<std::string> Header(std::string_view name) const;
};

// Lets the caller take a reply's body as it arrives instead of buffered.
struct BodyStreamer {
  // Called once the status and headers are known; true streams the body to `on_body`.
  std::function<bool(const HttpResponse& head)> stream_if;
  std::function<Status(std::string_view chunk)> on_body;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer slower than low_speed_limit bytes/s for low_speed_time is abandoned.
  long low_speed_limit = 1;
  std::chrono::seconds low_speed_time{30};
  std::chrono::milliseconds request_timeout{0};  // whole request; 0 = none
  // Whole-request cap of a slow_reply request (S3 completes the largest uploads in minutes).
  std::chrono::milliseconds slow_reply_timeout{std::chrono::minutes(15)};
  bool verify_tls = true;
  std::string ca_bundle;  // empty: the system's
  std::string user_agent = "s3mount";
  size_t max_buffered_body = size_t{16} << 20;  // a larger unstreamed reply is an error
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> Perform(const HttpRequest& request, BodyStreamer* streamer = nullptr);

  // How many connections libcurl opened so far (for tests of connection reuse).
  long connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Initialises libcurl once per process (curl_global_init is not thread-safe); called by the
// HttpClient constructor, and may be called early by main.
void EnsureCurlGlobalInit();

}  // namespace s3mount
