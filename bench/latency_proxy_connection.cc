// The data path of bench/latency_proxy.cc: DelayQueue and ProxyConnection (see the header).
#include "bench/latency_proxy_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

namespace s3mount {
namespace {

// recv() that retries on EINTR: >0 bytes read, 0 at FIN, -1 on error.
ssize_t RecvSome(int fd, char* buffer, size_t size) {
  for (;;) {
    const ssize_t got = ::recv(fd, buffer, size, 0);
    if (got >= 0 || errno != EINTR) return got;
  }
}

bool SendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += sent;
    size -= static_cast<size_t>(sent);
  }
  return true;
}

void SetNoDelay(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

std::unique_ptr<char[]> DelayQueue::TakeBuffer() {
  {
    const std::lock_guard lock(mu_);
    if (!free_buffers_.empty()) {
      std::unique_ptr<char[]> buffer = std::move(free_buffers_.back());
      free_buffers_.pop_back();
      return buffer;
    }
  }
  return std::make_unique_for_overwrite<char[]>(kReadBufferBytes);
}

bool DelayQueue::Push(Chunk chunk) {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] {
    return aborted_ || queued_bytes_ == 0 || queued_bytes_ + chunk.capacity <= kMaxQueuedBytes;
  });
  if (aborted_) return false;
  queued_bytes_ += chunk.capacity;
  chunks_.push_back(std::move(chunk));
  changed_.notify_all();
  return true;
}

std::optional<DelayQueue::Chunk> DelayQueue::PopDue() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return aborted_ || !chunks_.empty(); });
  if (aborted_) return std::nullopt;
  // Only this consumer removes chunks, so the front stays while we wait for it.
  const SteadyTime due = chunks_.front().due;
  if (changed_.wait_until(lock, due, [&] { return aborted_; })) return std::nullopt;
  Chunk chunk = std::move(chunks_.front());
  chunks_.pop_front();
  return chunk;
}

void DelayQueue::Release(Chunk chunk) {
  const std::lock_guard lock(mu_);
  queued_bytes_ -= chunk.capacity;
  if (chunk.capacity == kReadBufferBytes &&
      free_buffers_.size() < kMaxQueuedBytes / kReadBufferBytes) {
    free_buffers_.push_back(std::move(chunk.data));
  }
  changed_.notify_all();
}

void DelayQueue::Abort() {
  const std::lock_guard lock(mu_);
  aborted_ = true;
  changed_.notify_all();
}

ProxyConnection::ProxyConnection(UniqueFd client, const ProxyConfig& config)
    : config_(config),
      accepted_(std::chrono::steady_clock::now()),
      client_(std::move(client)),
      counter_([stats = config.stats](RequestClass request_class) {
        stats->requests[static_cast<size_t>(request_class)].fetch_add(1, std::memory_order_relaxed);
      }) {
  SetNoDelay(client_.get());
}

ProxyConnection::~ProxyConnection() {
  if (!done()) Abort();
  if (thread_.joinable()) thread_.join();
}

void ProxyConnection::Start() {
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& error) {
    std::fprintf(stderr, "latency_proxy: cannot start a connection thread: %s\n", error.what());
    Abort();
    done_.store(true, std::memory_order_release);
  }
}

void ProxyConnection::Abort() {
  {
    const std::lock_guard lock(mu_);
    aborted_ = true;
    // Linger 0: the final close() sends RST, as the failed side did.
    const linger reset{.l_onoff = 1, .l_linger = 0};
    for (const UniqueFd* fd : {&client_, &upstream_}) {
      if (!fd->valid()) continue;
      ::setsockopt(fd->get(), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
      ::shutdown(fd->get(), SHUT_RDWR);
    }
    aborted_changed_.notify_all();
  }
  up_queue_.Abort();
  down_queue_.Abort();
}

void ProxyConnection::Run() {
  if (config_.rtt.count() > 0) {
    // The client's connect() returned at once; its handshake costs one RTT before any byte of
    // it is read, as with a real SYN / SYN-ACK exchange.
    std::unique_lock lock(mu_);
    if (aborted_changed_.wait_until(lock, accepted_ + config_.rtt, [&] { return aborted_; })) {
      done_.store(true, std::memory_order_release);
      return;
    }
  }
  if (ConnectUpstream()) {
    try {
      std::thread up([this] { Pump(Direction::kUp); });
      Pump(Direction::kDown);
      up.join();
    } catch (const std::system_error& error) {
      std::fprintf(stderr, "latency_proxy: cannot start a pump thread: %s\n", error.what());
      Abort();
    }
  }
  done_.store(true, std::memory_order_release);
}

bool ProxyConnection::ConnectUpstream() {
  const auto* address = reinterpret_cast<const sockaddr*>(&config_.upstream);
  UniqueFd fd(::socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int result = fd.valid() ? 0 : -1;
  while (result == 0 && ::connect(fd.get(), address, config_.upstream_length) != 0) {
    if (errno != EINTR) result = -1;
  }
  if (result != 0) {
    std::fprintf(stderr, "latency_proxy: connect upstream: %s\n", std::strerror(errno));
    Abort();
    return false;
  }
  SetNoDelay(fd.get());
  const std::lock_guard lock(mu_);
  if (aborted_) return false;
  upstream_ = std::move(fd);
  return true;
}

void ProxyConnection::Pump(Direction direction) {
  // upstream_ no longer changes: it was set before the pumps started.
  const int source = direction == Direction::kUp ? client_.get() : upstream_.get();
  const int sink = direction == Direction::kUp ? upstream_.get() : client_.get();
  if (config_.rtt.count() == 0) return PumpDirect(source, sink, direction);
  DelayQueue& queue = direction == Direction::kUp ? up_queue_ : down_queue_;
  try {
    std::thread reader([&] { ReadIntoQueue(source, queue, direction); });
    WriteFromQueue(sink, queue);
    reader.join();
  } catch (const std::system_error& error) {
    std::fprintf(stderr, "latency_proxy: cannot start a reader thread: %s\n", error.what());
    Abort();
  }
}

void ProxyConnection::PumpDirect(int source, int sink, Direction direction) {
  const auto buffer = std::make_unique_for_overwrite<char[]>(kReadBufferBytes);
  for (;;) {
    const ssize_t got = RecvSome(source, buffer.get(), kReadBufferBytes);
    if (got == 0) {
      ::shutdown(sink, SHUT_WR);
      return;
    }
    if (got < 0) return Abort();
    Account(direction, buffer.get(), static_cast<size_t>(got));
    if (!SendAll(sink, buffer.get(), static_cast<size_t>(got))) return Abort();
  }
}

void ProxyConnection::ReadIntoQueue(int source, DelayQueue& queue, Direction direction) {
  const auto one_way = std::chrono::duration_cast<std::chrono::microseconds>(config_.rtt) / 2;
  std::unique_ptr<char[]> buffer = queue.TakeBuffer();
  for (;;) {
    const ssize_t got = RecvSome(source, buffer.get(), kReadBufferBytes);
    if (got < 0) return Abort();
    DelayQueue::Chunk chunk;
    chunk.due = std::chrono::steady_clock::now() + one_way;
    if (got == 0) {
      chunk.eof = true;
      queue.Push(std::move(chunk));
      return;
    }
    const auto size = static_cast<size_t>(got);
    Account(direction, buffer.get(), size);
    if (size < kSmallReadBytes) {
      chunk.data = std::make_unique_for_overwrite<char[]>(size);
      std::memcpy(chunk.data.get(), buffer.get(), size);
      chunk.capacity = size;
    } else {
      chunk.data = std::move(buffer);
      chunk.capacity = kReadBufferBytes;
      buffer = queue.TakeBuffer();
    }
    chunk.size = size;
    if (!queue.Push(std::move(chunk))) return;
  }
}

void ProxyConnection::WriteFromQueue(int sink, DelayQueue& queue) {
  for (;;) {
    std::optional<DelayQueue::Chunk> chunk = queue.PopDue();
    if (!chunk) return;
    if (chunk->eof) {
      ::shutdown(sink, SHUT_WR);
      return;
    }
    if (!SendAll(sink, chunk->data.get(), chunk->size)) return Abort();
    queue.Release(std::move(*chunk));
  }
}

void ProxyConnection::Account(Direction direction, const char* data, size_t size) {
  ProxyStats& stats = *config_.stats;
  if (direction == Direction::kDown) {
    stats.bytes_down.fetch_add(size, std::memory_order_relaxed);
    return;
  }
  stats.bytes_up.fetch_add(size, std::memory_order_relaxed);
  if (!counter_.failed() && !counter_.Feed(std::string_view(data, size))) {
    stats.parse_errors.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace s3mount
