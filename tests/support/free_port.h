// Loopback socket helpers for the test harness: a RAII file descriptor and a way to pick a
// free 127.0.0.1 TCP port for a server the test is about to start.
//
// Thread-safety: UniqueFd is a move-only value type (one owner); PickFreePort is safe to call
// from any thread.
#pragma once

#include <cstdint>

#include "s3mount/common/result.h"
#include "s3mount/common/unique_fd.h"

namespace s3mount::testing {

using s3mount::UniqueFd;

// Binds a TCP socket to 127.0.0.1:0, reads the port the kernel chose and closes the socket.
// Another process may take the port before the caller binds it, so callers that start a
// server on it should retry on "address in use".
Result<uint16_t> PickFreePort();

// Creates a listening TCP socket (SOCK_CLOEXEC) bound to 127.0.0.1 on an ephemeral port;
// the port is in *port. Race-free alternative to PickFreePort for in-process servers.
Result<UniqueFd> ListenOnLoopback(uint16_t* port, int backlog = 64);

}  // namespace s3mount::testing
