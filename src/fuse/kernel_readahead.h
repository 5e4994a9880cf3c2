// The kernel's readahead for a FUSE mount: Linux caps it at the mount's device's
// read_ahead_kb (128 KiB unless changed), whatever max_readahead the filesystem asks for at
// init. RaiseKernelReadahead finds the mount's device in /proc/self/mountinfo and raises it.
//
// Thread-safety: called once, from the FUSE init handler.
#pragma once

#include <cstddef>
#include <string>

namespace s3mount {

// Raises the read_ahead_kb of the FUSE mount on `mountpoint` to `bytes` (root only; otherwise,
// or if the mount is not found, the default stays and a debug line says why). Nothing happens
// for an empty `mountpoint`. May throw std::bad_alloc.
void RaiseKernelReadahead(const std::string& mountpoint, size_t bytes);

}  // namespace s3mount
