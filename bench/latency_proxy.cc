// latency_proxy: a TCP proxy the performance benchmark puts between an S3 client (s3mount,
// s3fs, rclone, curl) and a local S3 server, because this machine's kernel has no sch_netem.
// It adds a round-trip time (half each way, plus one RTT for each new connection's
// handshake) without limiting throughput, and counts the HTTP requests by class and the bytes
// each way. A tiny HTTP control server reports the counters: GET /stats, GET /reset (returns
// the counters, then zeroes them).
//
//   latency_proxy --upstream HOST:PORT --rtt-ms N [--listen-port P] [--control-port C]
//                 [--port-file F]
//
// Once both ports listen it writes "DATA_PORT CONTROL_PORT\n" to stdout and (atomically) to F.
// It runs until SIGTERM or SIGINT and then exits 0.
#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "bench/latency_proxy_connection.h"
#include "s3mount/common/unique_fd.h"

namespace s3mount {
namespace {

struct ProxyOptions {
  std::string upstream_host;
  std::string upstream_port;
  long rtt_ms = -1;
  long listen_port = 0;
  long control_port = 0;
  std::string port_file;
};

void PrintUsage() {
  std::fprintf(stderr,
               "usage: latency_proxy --upstream HOST:PORT --rtt-ms N [--listen-port P]\n"
               "                     [--control-port C] [--port-file F]\n");
}

bool ParseNumber(const char* text, long max, long* out) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0 || value > max) return false;
  *out = value;
  return true;
}

std::optional<ProxyOptions> ParseOptions(int argc, char** argv) {
  static const option kLongOptions[] = {{"upstream", required_argument, nullptr, 'u'},
                                        {"rtt-ms", required_argument, nullptr, 'r'},
                                        {"listen-port", required_argument, nullptr, 'l'},
                                        {"control-port", required_argument, nullptr, 'c'},
                                        {"port-file", required_argument, nullptr, 'f'},
                                        {nullptr, 0, nullptr, 0}};
  ProxyOptions options;
  std::string upstream;
  bool valid = true;
  for (int opt = 0; (opt = getopt_long(argc, argv, "", kLongOptions, nullptr)) != -1;) {
    switch (opt) {
      case 'u':
        upstream = optarg;
        break;
      case 'r':
        valid = valid && ParseNumber(optarg, 60'000, &options.rtt_ms);
        break;
      case 'l':
        valid = valid && ParseNumber(optarg, 65535, &options.listen_port);
        break;
      case 'c':
        valid = valid && ParseNumber(optarg, 65535, &options.control_port);
        break;
      case 'f':
        options.port_file = optarg;
        break;
      default:
        valid = false;
    }
  }
  const size_t colon = upstream.rfind(':');
  if (!valid || optind != argc || options.rtt_ms < 0 || colon == std::string::npos || colon == 0 ||
      colon + 1 == upstream.size()) {
    PrintUsage();
    return std::nullopt;
  }
  options.upstream_host = upstream.substr(0, colon);
  options.upstream_port = upstream.substr(colon + 1);
  if (options.upstream_host.size() > 2 && options.upstream_host.front() == '[' &&
      options.upstream_host.back() == ']') {
    options.upstream_host = options.upstream_host.substr(1, options.upstream_host.size() - 2);
  }
  return options;
}

bool ResolveUpstream(const ProxyOptions& options, ProxyConfig* config) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int error =
      ::getaddrinfo(options.upstream_host.c_str(), options.upstream_port.c_str(), &hints, &found);
  if (error != 0) {
    std::fprintf(stderr, "latency_proxy: cannot resolve %s: %s\n", options.upstream_host.c_str(),
                 ::gai_strerror(error));
    return false;
  }
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, &::freeaddrinfo);
  std::memcpy(&config->upstream, found->ai_addr, found->ai_addrlen);
  config->upstream_length = found->ai_addrlen;
  return true;
}

// A socket listening on 127.0.0.1:port (0: any free port); its port in *bound_port.
UniqueFd Listen(long port, int* bound_port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fd;
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd.get(), 512) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::fprintf(stderr, "latency_proxy: cannot listen on 127.0.0.1:%ld: %s\n", port,
                 std::strerror(errno));
    return UniqueFd();
  }
  *bound_port = ntohs(address.sin_port);
  return fd;
}

bool WritePortFile(const std::string& path, const std::string& line) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << line;
    out.close();
    if (!out) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

// The counters as JSON; with `reset` each is zeroed as it is read.
std::string StatsJson(ProxyStats& stats, bool reset, long rtt_ms) {
  const auto take = [reset](std::atomic<uint64_t>& counter) {
    return reset ? counter.exchange(0, std::memory_order_relaxed)
                 : counter.load(std::memory_order_relaxed);
  };
  nlohmann::ordered_json requests = nlohmann::ordered_json::object();
  uint64_t total = 0;
  for (size_t i = 0; i < kRequestClassCount; ++i) {
    const uint64_t count = take(stats.requests[i]);
    requests[RequestClassName(static_cast<RequestClass>(i))] = count;
    total += count;
  }
  requests["total"] = total;
  nlohmann::ordered_json body = nlohmann::ordered_json::object();
  body["requests"] = std::move(requests);
  body["bytes_up"] = take(stats.bytes_up);
  body["bytes_down"] = take(stats.bytes_down);
  body["connections"] = take(stats.connections);
  body["parse_errors"] = take(stats.parse_errors);
  body["rtt_ms"] = rtt_ms;
  return body.dump() + "\n";
}

// Answers one control request (GET /stats or GET /reset) and closes the connection. Reads and
// writes time out after two seconds, so a stuck client cannot stall the proxy for long.
void ServeControl(int listener, ProxyStats& stats, long rtt_ms) {
  const UniqueFd fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) return;
  const timeval timeout{.tv_sec = 2, .tv_usec = 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  std::string request;
  char buffer[4096];
  while (request.size() < (size_t{16} << 10) && request.find("\r\n\r\n") == std::string::npos &&
         request.find("\n\n") == std::string::npos) {
    const ssize_t got = ::recv(fd.get(), buffer, sizeof(buffer), 0);
    if (got <= 0) break;
    request.append(buffer, static_cast<size_t>(got));
  }
  const std::string_view line = std::string_view(request).substr(0, request.find_first_of("\r\n"));
  const std::string_view target = line.substr(0, line.find(' ', 4));
  std::string status = "200 OK";
  std::string body;
  if (target == "GET /stats" || target.starts_with("GET /stats?")) {
    body = StatsJson(stats, false, rtt_ms);
  } else if (target == "GET /reset" || target.starts_with("GET /reset?")) {
    body = StatsJson(stats, true, rtt_ms);
  } else {
    status = "404 Not Found";
    body = "{\"error\":\"try GET /stats or GET /reset\"}\n";
  }
  const std::string reply =
      "HTTP/1.0 " + status +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < reply.size()) {
    const ssize_t wrote = ::send(fd.get(), reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
    if (wrote <= 0) return;
    sent += static_cast<size_t>(wrote);
  }
  ::shutdown(fd.get(), SHUT_WR);
}

// Accepts connections and control requests until SIGTERM or SIGINT arrives on `signals`.
void ServeUntilSignal(int data_listener, int control_listener, int signals,
                      const ProxyConfig& config, long rtt_ms) {
  std::list<std::unique_ptr<ProxyConnection>> connections;
  for (;;) {
    pollfd fds[] = {{.fd = data_listener, .events = POLLIN},
                    {.fd = control_listener, .events = POLLIN},
                    {.fd = signals, .events = POLLIN}};
    const int ready = ::poll(fds, 3, 1000);
    if (ready < 0 && errno != EINTR) {
      std::fprintf(stderr, "latency_proxy: poll: %s\n", std::strerror(errno));
      break;
    }
    if (fds[2].revents != 0) break;
    if (fds[1].revents != 0) ServeControl(control_listener, *config.stats, rtt_ms);
    if (fds[0].revents != 0) {
      UniqueFd client(::accept4(data_listener, nullptr, nullptr, SOCK_CLOEXEC));
      if (client.valid()) {
        config.stats->connections.fetch_add(1, std::memory_order_relaxed);
        connections.push_back(std::make_unique<ProxyConnection>(std::move(client), config));
        connections.back()->Start();
      }
    }
    connections.remove_if([](const auto& connection) { return connection->done(); });
  }
  for (const auto& connection : connections) connection->Abort();
  connections.clear();  // joins every connection's threads
}

int Main(int argc, char** argv) {
  const std::optional<ProxyOptions> options = ParseOptions(argc, argv);
  if (!options) return 2;
  ProxyStats stats;
  ProxyConfig config;
  config.rtt = std::chrono::milliseconds(options->rtt_ms);
  config.stats = &stats;
  if (!ResolveUpstream(*options, &config)) return 1;

  // SIGTERM and SIGINT arrive through a signalfd; every thread inherits the blocked mask.
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  const UniqueFd signals(::signalfd(-1, &mask, SFD_CLOEXEC));

  int data_port = 0;
  int control_port = 0;
  const UniqueFd data_listener = Listen(options->listen_port, &data_port);
  const UniqueFd control_listener = Listen(options->control_port, &control_port);
  if (!signals.valid() || !data_listener.valid() || !control_listener.valid()) return 1;

  const std::string ports = std::to_string(data_port) + " " + std::to_string(control_port) + "\n";
  if (!options->port_file.empty() && !WritePortFile(options->port_file, ports)) {
    std::fprintf(stderr, "latency_proxy: cannot write %s\n", options->port_file.c_str());
    return 1;
  }
  std::fputs(ports.c_str(), stdout);
  std::fflush(stdout);

  ServeUntilSignal(data_listener.get(), control_listener.get(), signals.get(), config,
                   options->rtt_ms);
  return 0;
}

}  // namespace
}  // namespace s3mount

int main(int argc, char** argv) { return s3mount::Main(argc, argv); }
