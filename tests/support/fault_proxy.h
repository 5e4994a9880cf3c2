// FaultProxy: a small HTTP/1.1 proxy on 127.0.0.1 in front of an upstream server (moto) that
// injects faults from a script: canned S3 error replies, connection resets and truncations
// mid-body, stalls, latency, a flipped byte in a body, a replaced body, and requests the
// upstream applied whose answer is then lost (an error, a reset, a stall or a replaced body
// instead), and canned bodies under a 200 the upstream never saw.
// Clients point their endpoint at proxy->endpoint().
//
// Behaviour:
//  - Client connections are kept alive (many requests each) whatever the upstream does; each
//    request gets its own upstream connection. Request bodies with Content-Length or chunked
//    framing are read whole and forwarded with Content-Length; `Expect: 100-continue` is
//    answered by the proxy. Responses are streamed back with their own framing
//    (Content-Length, chunked, or until-close, which closes the client connection too). The
//    Host header is forwarded untouched, so SigV4 signatures stay valid.
//  - Each request takes the first scripted fault whose method / path filters match and uses up
//    one of its `times`; a fault with none left is dropped. Byte offsets (`after_bytes`) count
//    response body bytes as sent on the wire (including chunk framing for chunked replies).
//
// Thread-safety: every public method may be called from any thread while traffic flows.
// LOCK ORDERING: mu_ (script, counters, live sockets) is a leaf; no I/O is done under it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "s3mount/common/result.h"
#include "tests/support/free_port.h"
#include "tests/support/request_gate.h"

namespace s3mount::testing {

enum class FaultKind {
  kReturnStatus,  // reply `status` with an S3 <Error> body; upstream is never contacted
  kResetMidBody,  // forward, but RST the client after headers + after_bytes of body
  kStall,         // forward headers + after_bytes of body, pause `duration`, then go on
  kTruncateBody,  // forward headers (full Content-Length) + after_bytes, then a clean FIN
  kDelay,         // wait `duration`, then forward normally
  kHold,          // wait at the proxy's gate() until it is opened, then forward normally
  kFlipByte,      // forward, with the body byte at offset after_bytes inverted (if it has one)
  kApplyThenReturnStatus,  // forward (the upstream applies it), drop its answer, reply `status`
  kApplyThenReset,         // forward (the upstream applies it), drop its answer, RST the client
  kApplyThenStall,  // forward (the upstream applies it), send nothing for `duration`, then the
                    // upstream's answer
  kReplaceBody,     // forward; the upstream's status and headers with `replacement` as body
  kReturnBody,      // reply `status` with `replacement` as body; upstream is never contacted
                    // (a middlebox's HTML page, a garbled reply to a request not applied)
};

struct Fault {
  FaultKind kind = FaultKind::kDelay;
  int status = 0;                         // kReturnStatus
  std::string s3_code;                    // kReturnStatus: <Code>; empty means an empty body
  std::string message;                    // kReturnStatus: <Message>
  std::size_t after_bytes = 0;            // kResetMidBody, kStall, kTruncateBody
  std::chrono::milliseconds duration{0};  // kStall, kDelay
  std::string method;                     // only requests with this method ("" = any)
  std::string path_substring;             // only requests whose target contains this ("" = any)
  int times = 1;                          // applies to the next `times` matching requests
  std::vector<std::pair<std::string, std::string>> headers;  // kReturnStatus: extra headers
  std::string replacement;                                   // kReplaceBody, kReturnBody

  static Fault Return503SlowDown();
  static Fault ReturnStatus(int status, std::string s3_code, std::string message = "");
  static Fault ResetMidBody(std::size_t after_bytes);
  static Fault Stall(std::chrono::milliseconds duration, std::size_t after_bytes = 0);
  static Fault TruncateBody(std::size_t after_bytes);
  static Fault Delay(std::chrono::milliseconds duration);
  static Fault Hold();
  static Fault FlipByte(std::size_t at);
  static Fault ApplyThenReturnStatus(int status, std::string s3_code, std::string message = "");
  static Fault ApplyThenReset();
  static Fault ApplyThenStall(std::chrono::milliseconds duration);
  static Fault ReplaceBody(std::string body);
  static Fault ReturnBody(int status, std::string body);

  // Builder-style filters: Fault::Return503SlowDown().OnMethod("PUT").Times(2).
  Fault& OnMethod(std::string m) {
    method = std::move(m);
    return *this;
  }
  Fault& OnPath(std::string substring) {
    path_substring = std::move(substring);
    return *this;
  }
  Fault& Times(int n) {
    times = n;
    return *this;
  }
  // kReturnStatus, kApplyThenReturnStatus: adds a header to the canned reply (Date,
  // x-amz-bucket-region...).
  Fault& WithHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// What the proxy saw of one request (for tests that check what a client sent).
struct RecordedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased

  // The first header named `lower_name`, or "" when absent.
  std::string Header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return value;
    }
    return "";
  }
};

class FaultProxy {
 public:
  // Listens on 127.0.0.1:<ephemeral> and forwards to upstream_host:upstream_port (IPv4).
  static Result<std::unique_ptr<FaultProxy>> Start(std::string upstream_host,
                                                   uint16_t upstream_port);
  // Stops accepting, cuts every open connection (ending stalls and delays early) and joins
  // all threads.
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  uint16_t port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Appends to the script.
  void AddFault(Fault fault);
  void ClearFaults();
  // Faults still in the script (each counted once, whatever its remaining `times`).
  std::size_t PendingFaults() const;

  // Counters since start (or the last ResetCounters).
  uint64_t requests_seen() const;
  uint64_t requests_seen(std::string_view method) const;
  uint64_t connections_accepted() const;
  uint64_t faults_applied() const;
  // Every request seen since start (or the last ResetCounters), in arrival order.
  std::vector<RecordedRequest> recorded_requests() const;
  void ResetCounters();

  // Where Fault::Hold() requests wait (labelled with their target); shut down with the proxy.
  RequestGate& gate() { return gate_; }

 private:
  struct Connection;
  class Session;

  FaultProxy(UniqueFd listener, uint16_t port, std::string upstream_host, uint16_t upstream_port);
  void AcceptLoop();
  void ServeConnection(int fd);
  void JoinFinishedConnections();
  // A connected, registered socket to the upstream, or an invalid fd.
  UniqueFd ConnectUpstream();

  // Called by sessions (nested, so they may).
  // Counts the request and takes the first matching fault from the script, if any.
  std::optional<Fault> CountRequestAndTakeFault(
      const std::string& method, const std::string& target,
      const std::vector<std::pair<std::string, std::string>>& headers);
  void RegisterSocket(int fd);
  void UnregisterSocket(int fd);
  // Sleeps up to `duration`; returns false early if the proxy is stopping.
  bool SleepUnlessStopping(std::chrono::milliseconds duration);
  bool stopping() const { return stopping_.load(); }

  UniqueFd listener_;
  UniqueFd wake_read_;  // the accept loop polls this to notice shutdown
  UniqueFd wake_write_;
  uint16_t port_;
  std::string upstream_host_;
  uint16_t upstream_port_;
  std::atomic<bool> stopping_{false};
  RequestGate gate_;
  std::thread accept_thread_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  std::list<Fault> script_;
  std::map<std::string, uint64_t, std::less<>> requests_by_method_;
  uint64_t requests_total_ = 0;
  std::vector<RecordedRequest> recorded_;  // guarded by mu_
  uint64_t connections_ = 0;
  uint64_t faults_applied_ = 0;
  std::set<int> live_sockets_;  // client and upstream sockets, cut on shutdown

  // Only touched by the accept thread, then by the destructor after joining it.
  std::list<std::unique_ptr<Connection>> connection_threads_;
};

}  // namespace s3mount::testing
