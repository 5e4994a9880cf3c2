// Shrinking failing operation sequences (see shrinker.h).
#include "tests/unit/reference_model/shrinker.h"

#include <algorithm>

namespace s3mount::reference_model {

std::optional<std::string> Replay(const RunConfig& config, const std::vector<Op>& ops) {
  Runner runner(config);
  if (!runner.setup_error().empty()) return "setting up the mount: " + runner.setup_error();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (auto failure = runner.Step(ops[i])) {
      return "step " + std::to_string(i + 1) + " (" + Describe(ops[i]) + "): " + *failure;
    }
  }
  if (auto failure = runner.Finish()) return "after the last step, closing everything: " + *failure;
  return std::nullopt;
}

std::string Signature(const std::string& failure) {
  // "step 12 (rmdir a/b): readdir of a shows..." -> "rmdir|readdir of": the operation that
  // failed and the check that caught it, so that shrinking keeps to the same bug.
  const size_t open = failure.find('(');
  const size_t kind_end = failure.find_first_of(" )", open + 1);
  const size_t check = failure.find("): ");
  if (open == std::string::npos || check == std::string::npos) return failure;
  std::string signature = failure.substr(open + 1, kind_end - open - 1) + "|";
  const size_t first_space = failure.find(' ', check + 3);
  const size_t second_space =
      first_space == std::string::npos ? first_space : failure.find(' ', first_space + 1);
  return signature + failure.substr(check + 3, second_space - check - 3);
}

Shrunk Shrink(const RunConfig& config, std::vector<Op> ops, std::string failure, int max_replays) {
  const std::string signature = Signature(failure);
  Shrunk shrunk{std::move(ops), std::move(failure), 0};
  size_t chunks = 2;
  while (shrunk.ops.size() >= 2 && shrunk.replays < max_replays) {
    const size_t size = shrunk.ops.size();
    const size_t chunk = (size + chunks - 1) / chunks;
    bool dropped = false;
    for (size_t start = 0; start < size && shrunk.replays < max_replays; start += chunk) {
      std::vector<Op> candidate(shrunk.ops.begin(),
                                shrunk.ops.begin() + static_cast<std::ptrdiff_t>(start));
      candidate.insert(
          candidate.end(),
          shrunk.ops.begin() + static_cast<std::ptrdiff_t>(std::min(start + chunk, size)),
          shrunk.ops.end());
      ++shrunk.replays;
      auto still = Replay(config, candidate);
      if (still && Signature(*still) == signature) {
        shrunk.ops = std::move(candidate);
        shrunk.failure = *still;
        chunks = std::max<size_t>(chunks - 1, 2);
        dropped = true;
        break;
      }
    }
    if (dropped) continue;
    if (chunk == 1) break;  // no single operation can go
    chunks = std::min(chunks * 2, size);
  }
  return shrunk;
}

}  // namespace s3mount::reference_model
