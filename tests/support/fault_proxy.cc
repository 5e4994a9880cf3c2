// FaultProxy (see fault_proxy.h): the fault script, counters, the accept loop and the
// upstream connections. The per-connection Session is in fault_proxy_session.cc.
#include "tests/support/fault_proxy.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "tests/support/http_wire.h"

namespace s3mount::testing {
namespace {

constexpr int kUpstreamTimeoutSeconds = 60;

}  // namespace

// ---- Fault constructors -----------------------------------------------------------------

Fault Fault::Return503SlowDown() {
  return ReturnStatus(503, "SlowDown", "Please reduce your request rate.");
}

Fault Fault::ReturnStatus(int status, std::string s3_code, std::string message) {
  Fault f;
  f.kind = FaultKind::kReturnStatus;
  f.status = status;
  f.s3_code = std::move(s3_code);
  f.message = message.empty() ? "Injected by FaultProxy" : std::move(message);
  return f;
}

Fault Fault::ResetMidBody(std::size_t after_bytes) {
  Fault f;
  f.kind = FaultKind::kResetMidBody;
  f.after_bytes = after_bytes;
  return f;
}

Fault Fault::Stall(std::chrono::milliseconds duration, std::size_t after_bytes) {
  Fault f;
  f.kind = FaultKind::kStall;
  f.duration = duration;
  f.after_bytes = after_bytes;
  return f;
}

Fault Fault::TruncateBody(std::size_t after_bytes) {
  Fault f;
  f.kind = FaultKind::kTruncateBody;
  f.after_bytes = after_bytes;
  return f;
}

Fault Fault::Delay(std::chrono::milliseconds duration) {
  Fault f;
  f.kind = FaultKind::kDelay;
  f.duration = duration;
  return f;
}

Fault Fault::Hold() {
  Fault f;
  f.kind = FaultKind::kHold;
  return f;
}

Fault Fault::FlipByte(std::size_t at) {
  Fault f;
  f.kind = FaultKind::kFlipByte;
  f.after_bytes = at;
  return f;
}

Fault Fault::ApplyThenReturnStatus(int status, std::string s3_code, std::string message) {
  Fault f = ReturnStatus(status, std::move(s3_code), std::move(message));
  f.kind = FaultKind::kApplyThenReturnStatus;
  return f;
}

Fault Fault::ApplyThenReset() {
  Fault f;
  f.kind = FaultKind::kApplyThenReset;
  return f;
}

Fault Fault::ApplyThenStall(std::chrono::milliseconds duration) {
  Fault f;
  f.kind = FaultKind::kApplyThenStall;
  f.duration = duration;
  return f;
}

Fault Fault::ReturnBody(int status, std::string body) {
  Fault f;
  f.kind = FaultKind::kReturnBody;
  f.status = status;
  f.replacement = std::move(body);
  return f;
}

Fault Fault::ReplaceBody(std::string body) {
  Fault f;
  f.kind = FaultKind::kReplaceBody;
  f.replacement = std::move(body);
  return f;
}

struct FaultProxy::Connection {
  std::thread thread;
  std::atomic<bool> done{false};
};

// ---- FaultProxy ---------------------------------------------------------------------------

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(std::string upstream_host,
                                                      uint16_t upstream_port) {
  uint16_t port = 0;
  auto listener = ListenOnLoopback(&port);
  if (!listener.ok()) return std::move(listener).error();
  std::unique_ptr<FaultProxy> proxy(
      new FaultProxy(std::move(*listener), port, std::move(upstream_host), upstream_port));
  if (!proxy->wake_read_.valid()) {
    return MakeError(ErrorCode::kUnknown, std::string("pipe2: ") + std::strerror(errno));
  }
  proxy->accept_thread_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

FaultProxy::FaultProxy(UniqueFd listener, uint16_t port, std::string upstream_host,
                       uint16_t upstream_port)
    : listener_(std::move(listener)),
      port_(port),
      upstream_host_(std::move(upstream_host)),
      upstream_port_(upstream_port) {
  std::array<int, 2> fds{-1, -1};
  if (::pipe2(fds.data(), O_CLOEXEC) == 0) {
    wake_read_.Reset(fds[0]);
    wake_write_.Reset(fds[1]);
  }
}

FaultProxy::~FaultProxy() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (int fd : live_sockets_) ::shutdown(fd, SHUT_RDWR);
  }
  stop_cv_.notify_all();
  gate_.Shutdown();
  if (wake_write_.valid()) {
    char byte = 0;
    [[maybe_unused]] ssize_t n = ::write(wake_write_.get(), &byte, 1);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  for (auto& connection : connection_threads_) connection->thread.join();
}

void FaultProxy::AcceptLoop() {
  std::array<pollfd, 2> fds{pollfd{listener_.get(), POLLIN, 0},
                            pollfd{wake_read_.get(), POLLIN, 0}};
  while (!stopping()) {
    int n = ::poll(fds.data(), fds.size(), -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents != 0) break;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard lock(mu_);
      ++connections_;
    }
    RegisterSocket(fd);
    JoinFinishedConnections();
    auto connection = std::make_unique<Connection>();
    Connection* raw = connection.get();
    connection->thread = std::thread([this, fd, raw] {
      ServeConnection(fd);
      raw->done = true;
    });
    connection_threads_.push_back(std::move(connection));
  }
}

void FaultProxy::JoinFinishedConnections() {
  for (auto it = connection_threads_.begin(); it != connection_threads_.end();) {
    if ((*it)->done) {
      (*it)->thread.join();
      it = connection_threads_.erase(it);
    } else {
      ++it;
    }
  }
}

UniqueFd FaultProxy::ConnectUpstream() {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(upstream_port_);
  if (::getaddrinfo(upstream_host_.c_str(), port.c_str(), &hints, &found) != 0) return {};
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return {};
  timeval timeout{kUpstreamTimeoutSeconds, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  RegisterSocket(fd.get());
  if (::connect(fd.get(), found->ai_addr, found->ai_addrlen) != 0) {
    UnregisterSocket(fd.get());
    return {};
  }
  return fd;
}

std::optional<Fault> FaultProxy::CountRequestAndTakeFault(
    const std::string& method, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::lock_guard lock(mu_);
  RecordedRequest& recorded = recorded_.emplace_back();
  recorded.method = method;
  recorded.target = target;
  for (const auto& [name, value] : headers)
    recorded.headers.emplace_back(http_wire::Lower(name), value);
  ++requests_total_;
  ++requests_by_method_[method];
  for (auto it = script_.begin(); it != script_.end(); ++it) {
    if (!it->method.empty() && it->method != method) continue;
    if (!it->path_substring.empty() && target.find(it->path_substring) == std::string::npos) {
      continue;
    }
    Fault fault = *it;
    if (--it->times <= 0) script_.erase(it);
    ++faults_applied_;
    return fault;
  }
  return std::nullopt;
}

void FaultProxy::RegisterSocket(int fd) {
  std::lock_guard lock(mu_);
  live_sockets_.insert(fd);
  if (stopping_) ::shutdown(fd, SHUT_RDWR);
}

void FaultProxy::UnregisterSocket(int fd) {
  std::lock_guard lock(mu_);
  live_sockets_.erase(fd);
}

bool FaultProxy::SleepUnlessStopping(std::chrono::milliseconds duration) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, duration, [this] { return stopping_.load(); });
}

void FaultProxy::AddFault(Fault fault) {
  std::lock_guard lock(mu_);
  if (fault.times > 0) script_.push_back(std::move(fault));
}

void FaultProxy::ClearFaults() {
  std::lock_guard lock(mu_);
  script_.clear();
}

std::size_t FaultProxy::PendingFaults() const {
  std::lock_guard lock(mu_);
  return script_.size();
}

uint64_t FaultProxy::requests_seen() const {
  std::lock_guard lock(mu_);
  return requests_total_;
}

uint64_t FaultProxy::requests_seen(std::string_view method) const {
  std::lock_guard lock(mu_);
  auto it = requests_by_method_.find(method);
  return it == requests_by_method_.end() ? 0 : it->second;
}

uint64_t FaultProxy::connections_accepted() const {
  std::lock_guard lock(mu_);
  return connections_;
}

uint64_t FaultProxy::faults_applied() const {
  std::lock_guard lock(mu_);
  return faults_applied_;
}

void FaultProxy::ResetCounters() {
  std::lock_guard lock(mu_);
  requests_total_ = 0;
  requests_by_method_.clear();
  connections_ = 0;
  faults_applied_ = 0;
  recorded_.clear();
}

std::vector<RecordedRequest> FaultProxy::recorded_requests() const {
  std::lock_guard lock(mu_);
  return recorded_;
}

}  // namespace s3mount::testing
