// client_throughput: measures s3mount's S3 client against a live S3 endpoint: GET and PUT
// throughput of one large object and of many small objects from N threads. Prints one line
// per workload ("name seconds bytes requests"), which bench/client_vs_curl.sh turns into a
// table beside the same workloads run with curl.
//
//   client_throughput --endpoint URL --bucket B [--threads N] [--large-mib M]
//                     [--small-count C] [--small-kib K] [--prefix P]
#include <getopt.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "s3mount/auth/environment_credentials.h"
#include "s3mount/s3/curl_object_store.h"
#include "s3mount/s3/object_sinks.h"

namespace s3mount {
namespace {

struct BenchOptions {
  S3ClientOptions client;
  int threads = 8;
  size_t large_mib = 64;
  size_t small_count = 400;
  size_t small_kib = 4;
  std::string prefix = "bench/";
};

class CountingSink final : public ObjectSink {
 public:
  Status Begin(const GetObjectResponse& /*response*/) override { return OkStatus(); }
  Status Append(std::string_view bytes) override {
    bytes_ += bytes.size();
    return OkStatus();
  }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t bytes_ = 0;
};

std::string RandomBytes(size_t size) {
  std::mt19937_64 rng(42);
  std::string data(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = rng();
    for (size_t j = 0; j < 8 && i + j < size; ++j) data[i + j] = static_cast<char>(word >> (8 * j));
  }
  return data;
}

void Report(const char* name, std::chrono::steady_clock::duration elapsed, uint64_t bytes,
            uint64_t requests) {
  std::printf("%s %.6f %llu %llu\n", name, std::chrono::duration<double>(elapsed).count(),
              static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(requests));
}

// Runs `work(index)` for index in [0, count) on `threads` threads; false if any failed.
template <typename Work>
bool Parallel(int threads, size_t count, Work work) {
  std::atomic<size_t> next{0};
  std::atomic<bool> ok{true};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < count; i = next++) {
        if (!work(i)) ok = false;
      }
    });
  }
  for (auto& thread : pool) thread.join();
  return ok;
}

bool Check(const char* what, const Status& status) {
  if (!status.ok()) std::cerr << what << ": " << status.error().ToString() << "\n";
  return status.ok();
}

int Run(const BenchOptions& options) {
  SystemClock clock;
  EnvironmentCredentialsProvider provider;
  auto store = CurlObjectStore::Create(options.client, provider, clock);
  if (!store.ok()) return std::cerr << store.error().ToString() << "\n", 2;
  ObjectStore& s3 = **store;
  using SteadyClock = std::chrono::steady_clock;

  const std::string large = RandomBytes(options.large_mib << 20);
  const std::string large_key = options.prefix + "large";
  auto start = SteadyClock::now();
  auto put = s3.PutObject({.key = large_key, .body = large});
  if (!put.ok()) return std::cerr << put.error().ToString() << "\n", 1;
  Report("put_large", SteadyClock::now() - start, large.size(), 1);

  CountingSink sink;
  start = SteadyClock::now();
  auto got = s3.GetObject({.key = large_key}, sink);
  if (!got.ok() || sink.bytes() != large.size()) return std::cerr << "get large failed\n", 1;
  Report("get_large", SteadyClock::now() - start, sink.bytes(), 1);

  const std::string small = RandomBytes(options.small_kib << 10);
  auto small_key = [&](size_t i) { return options.prefix + "small/" + std::to_string(i); };
  start = SteadyClock::now();
  bool ok = Parallel(options.threads, options.small_count, [&](size_t i) {
    auto r = s3.PutObject({.key = small_key(i), .body = small});
    return Check("put small", r.ok() ? OkStatus() : Status(r.error()));
  });
  if (!ok) return 1;
  Report("put_small", SteadyClock::now() - start, small.size() * options.small_count,
         options.small_count);

  start = SteadyClock::now();
  ok = Parallel(options.threads, options.small_count, [&](size_t i) {
    CountingSink small_sink;
    auto r = s3.GetObject({.key = small_key(i)}, small_sink);
    return Check("get small", r.ok() ? OkStatus() : Status(r.error()));
  });
  if (!ok) return 1;
  Report("get_small", SteadyClock::now() - start, small.size() * options.small_count,
         options.small_count);
  std::printf("connections_opened %ld\n", (*store)->connections_opened());
  return 0;
}

int Main(int argc, char** argv) {
  BenchOptions options;
  options.client.endpoint.force_path_style = true;
  static const option kOptions[] = {{"endpoint", required_argument, nullptr, 'e'},
                                    {"bucket", required_argument, nullptr, 'b'},
                                    {"threads", required_argument, nullptr, 't'},
                                    {"large-mib", required_argument, nullptr, 'L'},
                                    {"small-count", required_argument, nullptr, 'c'},
                                    {"small-kib", required_argument, nullptr, 's'},
                                    {"prefix", required_argument, nullptr, 'p'},
                                    {nullptr, 0, nullptr, 0}};
  int opt = 0;
  while ((opt = getopt_long(argc, argv, "", kOptions, nullptr)) != -1) {
    switch (opt) {
      case 'e':
        options.client.endpoint.endpoint_url = optarg;
        break;
      case 'b':
        options.client.bucket = optarg;
        break;
      case 't':
        options.threads = std::atoi(optarg);
        break;
      case 'L':
        options.large_mib = std::strtoull(optarg, nullptr, 10);
        break;
      case 'c':
        options.small_count = std::strtoull(optarg, nullptr, 10);
        break;
      case 's':
        options.small_kib = std::strtoull(optarg, nullptr, 10);
        break;
      case 'p':
        options.prefix = optarg;
        break;
      default:
        return 2;
    }
  }
  if (options.client.bucket.empty() || options.threads < 1) {
    std::cerr << "usage: client_throughput --endpoint URL --bucket B [--threads N] ...\n";
    return 2;
  }
  return Run(options);
}

}  // namespace
}  // namespace s3mount

int main(int argc, char** argv) { return s3mount::Main(argc, argv); }
