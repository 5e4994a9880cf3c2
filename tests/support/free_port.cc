// Loopback socket helpers: UniqueFd and free-port selection (see free_port.h).
#include "tests/support/free_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace s3mount::testing {
namespace {

std::string ErrnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Result<UniqueFd> ListenOnLoopback(uint16_t* port, int backlog) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return MakeError(ErrorCode::kNetwork, ErrnoText("socket"));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return MakeError(ErrorCode::kNetwork, ErrnoText("bind 127.0.0.1:0"));
  }
  if (::listen(fd.get(), backlog) != 0) {
    return MakeError(ErrorCode::kNetwork, ErrnoText("listen"));
  }
  socklen_t len = sizeof(addr);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return MakeError(ErrorCode::kNetwork, ErrnoText("getsockname"));
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

Result<uint16_t> PickFreePort() {
  uint16_t port = 0;
  auto fd = ListenOnLoopback(&port, 1);
  if (!fd.ok()) return std::move(fd).error();
  return port;
}

}  // namespace s3mount::testing
