// The data path of bench/latency_proxy.cc: one proxied TCP connection (ProxyConnection) that
// delays every byte by half the round-trip time in each direction, without limiting throughput
// (DelayQueue: a reader thread stamps chunks with their due time, a writer thread sends each
// when it is due), and counts the bytes and the HTTP requests that pass (ProxyStats).
//
// Thread-safety: ProxyStats is safe from any thread (relaxed atomics). DelayQueue has one
// producer and one consumer thread plus Abort from any thread. ProxyConnection is created,
// started, aborted and destroyed by one owner thread; it runs its own threads, which the
// destructor joins.
#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "bench/http_request_counter.h"
#include "s3mount/common/unique_fd.h"

namespace s3mount {

using SteadyTime = std::chrono::steady_clock::time_point;

// Size of one read; reads shorter than kSmallReadBytes are copied into a right-sized buffer.
inline constexpr size_t kReadBufferBytes = size_t{256} << 10;
inline constexpr size_t kSmallReadBytes = size_t{32} << 10;
// Most bytes (buffer capacity) one direction holds in flight before its reader waits. With a
// one-way delay d this caps a connection's throughput at kMaxQueuedBytes / d per direction.
inline constexpr size_t kMaxQueuedBytes = size_t{32} << 20;

struct ProxyStats {
  std::array<std::atomic<uint64_t>, kRequestClassCount> requests{};
  std::atomic<uint64_t> bytes_up{0};
  std::atomic<uint64_t> bytes_down{0};
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> parse_errors{0};
};

// What every connection shares: the upstream address, the delay and the counters.
struct ProxyConfig {
  sockaddr_storage upstream{};
  socklen_t upstream_length = 0;
  std::chrono::milliseconds rtt{0};
  ProxyStats* stats = nullptr;
};

// The bytes of one direction in flight, in arrival order, each chunk with its due time.
// LOCK ORDERING: mu_ is a leaf lock.
class DelayQueue {
 public:
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t size = 0;
    size_t capacity = 0;
    SteadyTime due;
    bool eof = false;  // the source sent FIN; no data
  };

  // A kReadBufferBytes buffer for the next read, from the pool when one is free.
  std::unique_ptr<char[]> TakeBuffer();
  // Queues `chunk`; waits while the queue is full. False once aborted.
  bool Push(Chunk chunk);
  // Waits until the oldest chunk is due and removes it; nullopt once aborted.
  std::optional<Chunk> PopDue();
  // Frees a sent chunk's room (and keeps its buffer for TakeBuffer).
  void Release(Chunk chunk);
  // Wakes every waiter; Push and PopDue fail from now on.
  void Abort();

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Chunk> chunks_;
  std::vector<std::unique_ptr<char[]>> free_buffers_;
  size_t queued_bytes_ = 0;  // capacity of the queued chunks and of the one being sent
  bool aborted_ = false;
};

// One client connection and its upstream connection. Start() runs it on its own threads: wait
// one RTT (the TCP handshake), connect upstream, then pump both directions until each has
// ended (FIN forwarded as shutdown(SHUT_WR)) or either failed (both sockets reset).
// LOCK ORDERING: mu_ is taken before a DelayQueue's mu_ never; Abort releases it first.
class ProxyConnection {
 public:
  ProxyConnection(UniqueFd client, const ProxyConfig& config);
  ProxyConnection(const ProxyConnection&) = delete;
  ProxyConnection& operator=(const ProxyConnection&) = delete;
  // Aborts the connection if it still runs and joins its threads.
  ~ProxyConnection();

  void Start();
  // Resets both sockets and stops every thread of this connection; safe from any thread.
  void Abort();
  bool done() const { return done_.load(std::memory_order_acquire); }

 private:
  enum class Direction { kUp, kDown };  // client to server, server to client

  void Run();
  bool ConnectUpstream();
  void Pump(Direction direction);
  void PumpDirect(int source, int sink, Direction direction);
  void ReadIntoQueue(int source, DelayQueue& queue, Direction direction);
  void WriteFromQueue(int sink, DelayQueue& queue);
  void Account(Direction direction, const char* data, size_t size);

  const ProxyConfig& config_;
  const SteadyTime accepted_;
  UniqueFd client_;
  HttpRequestCounter counter_;  // used by the upstream reader only
  DelayQueue up_queue_;
  DelayQueue down_queue_;
  std::atomic<bool> done_{false};

  std::mutex mu_;
  std::condition_variable aborted_changed_;
  bool aborted_ = false;  // guarded by mu_
  UniqueFd upstream_;     // set under mu_ once connected; closed by the destructor
  std::thread thread_;
};

}  // namespace s3mount
