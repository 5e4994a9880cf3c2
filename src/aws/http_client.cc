// HttpClient: libcurl easy handles from a pool, a share handle for DNS and TLS sessions,
// and the callbacks that collect headers, stream or buffer bodies and feed request bodies.
#include "s3mount/aws/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstring>

#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct ShareDeleter {
  void operator()(CURLSH* share) const { curl_share_cleanup(share); }
};
using ShareHandle = std::unique_ptr<CURLSH, ShareDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// Everything one transfer's callbacks need.
struct Transfer {
  const HttpRequest* request = nullptr;
  BodyStreamer* streamer = nullptr;
  CURL* easy = nullptr;
  size_t max_buffered_body = 0;
  HttpResponse response;
  size_t upload_offset = 0;
  bool decided = false;    // whether stream_if has been asked
  bool streaming = false;  // whether the body goes to the streamer
  std::optional<Error> callback_error;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  std::string_view line(data, length);
  if (line.starts_with("HTTP/")) {
    // A new status line (after 100 Continue, say): forget earlier headers.
    transfer->response.headers.clear();
    return length;
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    transfer->response.headers.emplace_back(AsciiLower(TrimAsciiSpace(line.substr(0, colon))),
                                            std::string(TrimAsciiSpace(line.substr(colon + 1))));
  }
  return length;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  if (!transfer->decided) {
    transfer->decided = true;
    curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &transfer->response.status);
    transfer->streaming = transfer->streamer != nullptr && transfer->streamer->stream_if &&
                          transfer->streamer->stream_if(transfer->response);
  }
  if (transfer->streaming) {
    Status status = transfer->streamer->on_body(std::string_view(data, length));
    if (!status.ok()) {
      transfer->callback_error = std::move(status).error();
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    return length;
  }
  if (transfer->response.body.size() + length > transfer->max_buffered_body) {
    transfer->callback_error =
        MakeError(ErrorCode::kInvalidResponse, "reply body larger than the buffering limit");
    return 0;
  }
  transfer->response.body.append(data, length);
  return length;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::string_view body = transfer->request->body;
  const size_t n = std::min(size * count, body.size() - transfer->upload_offset);
  std::memcpy(buffer, body.data() + transfer->upload_offset, n);
  transfer->upload_offset += n;
  return n;
}

// Called by libcurl about once a second and on every chunk: stops the transfer when the
// request's cancel flag is set.
int OnProgress(void* user, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/, curl_off_t /*ultotal*/,
               curl_off_t /*ulnow*/) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->request->cancel == nullptr || !transfer->request->cancel->load()) return 0;
  transfer->callback_error = MakeError(ErrorCode::kCancelled, "request cancelled");
  return 1;  // aborts the transfer with CURLE_ABORTED_BY_CALLBACK
}

int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* transfer = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<size_t>(offset) > transfer->request->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  transfer->upload_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

Error TransportError(CURLcode code, const char* detail) {
  ErrorCode kind = ErrorCode::kNetwork;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      kind = ErrorCode::kTimeout;
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
      kind = ErrorCode::kHostNotFound;
      break;
    case CURLE_PARTIAL_FILE:
      kind = ErrorCode::kTruncatedBody;
      break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      kind = ErrorCode::kTls;
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      kind = ErrorCode::kInvalidArgument;
      break;
    default:
      break;
  }
  std::string message = curl_easy_strerror(code);
  if (detail != nullptr && detail[0] != '\0') {
    message += std::string(": ") + detail;
  }
  return MakeError(kind, std::move(message));
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

void EnsureCurlGlobalInit() {
  static const bool initialised = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)initialised;
}

struct HttpClient::Impl {
  explicit Impl(HttpClientOptions opts) : options(std::move(opts)) {}

  HttpClientOptions options;
  ShareHandle share;
  // One mutex per kind of data the share handle protects.
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks;
  std::mutex pool_mu;
  std::vector<EasyHandle> idle;  // guarded by pool_mu
  std::atomic<long> connections_opened{0};

  static void Lock(CURL* /*handle*/, curl_lock_data data, curl_lock_access /*access*/, void* user) {
    static_cast<Impl*>(user)->share_locks.at(data).lock();
  }
  static void Unlock(CURL* /*handle*/, curl_lock_data data, void* user) {
    static_cast<Impl*>(user)->share_locks.at(data).unlock();
  }

  EasyHandle Acquire() {
    {
      std::lock_guard lock(pool_mu);
      if (!idle.empty()) {
        EasyHandle handle = std::move(idle.back());
        idle.pop_back();
        return handle;
      }
    }
    return EasyHandle(curl_easy_init());
  }
  void Release(EasyHandle handle) {
    std::lock_guard lock(pool_mu);
    idle.push_back(std::move(handle));
  }
  void Configure(CURL* easy, const HttpRequest& request, Transfer& transfer, curl_slist* headers,
                 char* error_buffer) const;
};

void HttpClient::Impl::Configure(CURL* easy, const HttpRequest& request, Transfer& transfer,
                                 curl_slist* headers, char* error_buffer) const {
  // curl_easy_reset keeps the handle's live connections and caches.
  curl_easy_reset(easy);
  curl_easy_setopt(easy, CURLOPT_SHARE, share.get());
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  // S3 keys may hold "./" and "../" segments: send the path exactly as signed.
  curl_easy_setopt(easy, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 256L * 1024L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  if (request.fresh_connection) curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
  if (request.slow_reply) {
    // A low-speed limit of 0 disables the check.
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 0L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(options.slow_reply_timeout.count()));
  } else {
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, options.low_speed_limit);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(options.low_speed_time.count()));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count()));
  }
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  if (!options.ca_bundle.empty()) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, options.ca_bundle.c_str());
  }
  if (request.cancel != nullptr) {
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &OnProgress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &transfer);
  }
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
  if (request.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(easy, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, &OnSeek);
    curl_easy_setopt(easy, CURLOPT_SEEKDATA, &transfer);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
}

HttpClient::HttpClient(HttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  EnsureCurlGlobalInit();
  impl_->share.reset(curl_share_init());
  CURLSH* share = impl_->share.get();
  curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &Impl::Lock);
  curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &Impl::Unlock);
  curl_share_setopt(share, CURLSHOPT_USERDATA, impl_.get());
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

HttpClient::~HttpClient() {
  // Easy handles must go before the share handle they use.
  impl_->idle.clear();
}

long HttpClient::connections_opened() const { return impl_->connections_opened.load(); }

Result<HttpResponse> HttpClient::Perform(const HttpRequest& request, BodyStreamer* streamer) {
  EasyHandle easy = impl_->Acquire();
  if (!easy) {
    return MakeError(ErrorCode::kNetwork, "curl_easy_init failed");
  }
  Slist headers;
  for (const auto& [name, value] : request.headers) {
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* appended = curl_slist_append(headers.get(), line.c_str());
    if (appended == nullptr) return MakeError(ErrorCode::kNetwork, "out of memory");
    (void)headers.release();
    headers.reset(appended);
  }
  // No `Expect: 100-continue`: it costs a round trip on every upload.
  curl_slist* appended = curl_slist_append(headers.get(), "Expect:");
  if (appended == nullptr) return MakeError(ErrorCode::kNetwork, "out of memory");
  (void)headers.release();
  headers.reset(appended);

  Transfer transfer;
  transfer.request = &request;
  transfer.streamer = streamer;
  transfer.easy = easy.get();
  transfer.max_buffered_body = impl_->options.max_buffered_body;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  impl_->Configure(easy.get(), request, transfer, headers.get(), error_buffer.data());

  const CURLcode code = curl_easy_perform(easy.get());
  long new_connections = 0;
  curl_easy_getinfo(easy.get(), CURLINFO_NUM_CONNECTS, &new_connections);
  impl_->connections_opened += new_connections;
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &transfer.response.status);
  impl_->Release(std::move(easy));

  if (transfer.callback_error.has_value()) {
    return std::move(*transfer.callback_error);
  }
  if (code != CURLE_OK) {
    Error error = TransportError(code, error_buffer.data());
    error.http_status = static_cast<int>(transfer.response.status);
    return error;
  }
  return std::move(transfer.response);
}

}  // namespace s3mount
