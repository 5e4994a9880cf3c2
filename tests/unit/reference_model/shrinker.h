// Shrinking a failing operation sequence (delta debugging, as in Zeller's ddmin): drops
// chunks of operations, halving the chunk size down to single operations, and keeps every
// drop after which the sequence still fails; replay() runs a sequence from a fresh mount.
//
// Thread-safety: pure function of its arguments.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tests/unit/reference_model/operations.h"
#include "tests/unit/reference_model/runner.h"

namespace s3mount::reference_model {

// The first failure of `ops` run from scratch with `config`, prefixed with the number and
// description of the step where it happened ("step 12 (unlink a): ..."), or none.
std::optional<std::string> Replay(const RunConfig& config, const std::vector<Op>& ops);

struct Shrunk {
  std::vector<Op> ops;
  std::string failure;  // the failure of `ops`
  int replays = 0;
};

// What identifies a failure while shrinking: the kind of the failing operation and the check
// that caught it ("rmdir|readdir of").
std::string Signature(const std::string& failure);

// A subsequence of `ops` that still fails the same way (Signature), as short as `max_replays`
// replays could find. `failure` is the failure of `ops` itself.
Shrunk Shrink(const RunConfig& config, std::vector<Op> ops, std::string failure, int max_replays);

}  // namespace s3mount::reference_model
