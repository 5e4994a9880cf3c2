// The reference-model test: the Filesystem on the in-memory fake store and a FakeClock, driven
// by random sequences of operations (create, open, writes at offsets, reads, ftruncate and
// truncate, fsync, close, chmod, utimens, xattrs, mkdir, rmdir, unlink, rename of files and
// directories, symlinks) interleaved with another client's PUTs and DELETEs straight on the
// store, over a few names that shadow each other ("a", "a/", "a/b", "a.b"), with and without
// write-back, and compared after every step with a plain model of keys and the tree they mean
// (model.h). Two tests run the same seeds: one without write-back, one with it (-o writeback;
// WithWriteBack in its name). Each seed picks the rest of its configuration: bit 1 freshness
// by events.
//
// Freshness rule (docs/SEMANTICS.md section 14). After another client's change the model shows
// it at once, so the mount must too, by what the semantics promise:
//  - freshness by TTLs (stat_ttl 60 s, negative_ttl 5 s, list_ttl 60 s): the clock moves 61 s
//    past the change before the next comparison;
//  - freshness by events (TTLs of an hour, as with sqs_queue_url=): the change's S3 event is
//    applied (Filesystem::ApplyRemoteChange) before the next comparison. Every body the other
//    client writes is unique: an event whose ETag is the one this mount has cached is taken
//    for the echo of its own write (documented), which the model does not follow.
// The other client stays away from a name this mount has open, and from names below it: who
// writes last then decides, and the semantics promise nothing more. With write-back, the
// queue is drained before the other client changes a name near one changed here since the
// last drain: the same name, one above or below it, or one below a directory above it (the
// queued request and the other client's would race, and an implicit directory whose last
// entry's DELETE is queued keeps showing until it has run, as SEMANTICS.md says).
//
// Runs: each test runs S3MOUNT_MODEL_SEEDS seeds (default 200) from S3MOUNT_MODEL_FIRST_SEED
// (default 1), of S3MOUNT_MODEL_OPS operations each (default 300); S3MOUNT_MODEL_SEED=N runs
// seed N alone. A failure prints its seed and configuration, the command that replays it, and
// the sequence shrunk to the operations it needs in at most S3MOUNT_MODEL_SHRINK_REPLAYS
// replays (default 400; S3MOUNT_MODEL_SHRINK=0 prints the whole sequence instead); a test stops
// after S3MOUNT_MODEL_MAX_FAILURES failing seeds (default 3). Divergences found so far have
// regression tests of their own (filesystem_*_test.cc, each saying "Found by the reference-model
// test").
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tests/unit/reference_model/operations.h"
#include "tests/unit/reference_model/runner.h"
#include "tests/unit/reference_model/shrinker.h"

namespace s3mount::reference_model {
namespace {

uint64_t FromEnvironment(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoull(value, nullptr, 10);
}

// Runs one seed; on failure returns the report (seed, configuration, shrunk sequence).
std::optional<std::string> RunSeed(uint64_t seed, uint64_t count, bool write_back) {
  const RunConfig config{.write_back = write_back, .events = (seed & 2) != 0};
  std::vector<Op> ops;
  std::optional<std::string> failure;
  {
    Runner runner(config);
    if (!runner.setup_error().empty())
      return "seed " + std::to_string(seed) + ": " + runner.setup_error();
    Generator generator(seed);
    for (uint64_t i = 0; i < count && !failure; ++i) {
      ops.push_back(generator.Next(runner.model(), runner.slots()));
      if (auto step = runner.Step(ops.back())) {
        failure = "step " + std::to_string(i + 1) + " (" + Describe(ops.back()) + "): " + *step;
      }
    }
    if (!failure) {
      if (auto finish = runner.Finish())
        failure = "after the last step, closing everything: " + *finish;
    }
  }
  if (!failure) return std::nullopt;
  // A race between the mount's own threads (write-back, prefetches) may not come back: such a
  // failure is printed, and fails the test only if one of two replays fails too.
  bool reproduced = false;
  for (int replay = 0; replay < 2 && !reproduced; ++replay)
    reproduced = Replay(config, ops).has_value();
  std::string report = std::string(reproduced ? "" : "NOT REPRODUCED (printed only): ") + "seed " +
                       std::to_string(seed) + " (" + config.ToString() + ") failed at " + *failure +
                       "\nreplay: S3MOUNT_MODEL_SEED=" + std::to_string(seed) +
                       " S3MOUNT_MODEL_OPS=" + std::to_string(ops.size()) +
                       " unit_tests --gtest_filter='ReferenceModelTest.RandomOperationSequences" +
                       (write_back ? "WithWriteBack" : "") + "MatchTheModel'\n";
  if (!reproduced || FromEnvironment("S3MOUNT_MODEL_SHRINK", 1) == 0) {
    for (size_t i = 0; i < ops.size(); ++i) {
      report += "  " + std::to_string(i + 1) + ". " + Describe(ops[i]) + "\n";
    }
    return report;
  }
  Shrunk shrunk = Shrink(config, ops, *failure,
                         static_cast<int>(FromEnvironment("S3MOUNT_MODEL_SHRINK_REPLAYS", 400)));
  report += "shrunk to " + std::to_string(shrunk.ops.size()) + " operations (" +
            std::to_string(shrunk.replays) + " replays), failing at " + shrunk.failure + ":\n";
  for (size_t i = 0; i < shrunk.ops.size(); ++i) {
    report += "  " + std::to_string(i + 1) + ". " + Describe(shrunk.ops[i]) + "\n";
  }
  return report;
}

void RunSeeds(bool write_back) {
  const uint64_t count = FromEnvironment("S3MOUNT_MODEL_OPS", 300);
  uint64_t first = FromEnvironment("S3MOUNT_MODEL_FIRST_SEED", 1);
  uint64_t seeds = FromEnvironment("S3MOUNT_MODEL_SEEDS", 200);
  if (const uint64_t one = FromEnvironment("S3MOUNT_MODEL_SEED", 0); one != 0) {
    first = one;
    seeds = 1;
  }
  // The write-back queue logs its counts at every unmount: thousands of lines.
  const spdlog::level::level_enum level = spdlog::get_level();
  spdlog::set_level(spdlog::level::warn);
  uint64_t failures = 0;
  const uint64_t max_failures = FromEnvironment("S3MOUNT_MODEL_MAX_FAILURES", 3);
  for (uint64_t seed = first; seed < first + seeds && failures < max_failures; ++seed) {
    if (auto report = RunSeed(seed, count, write_back)) {
      if (report->starts_with("NOT REPRODUCED")) {
        std::cerr << *report;
        continue;
      }
      ADD_FAILURE() << *report;
      ++failures;
    }
  }
  spdlog::set_level(level);
}

TEST(ReferenceModelTest, RandomOperationSequencesMatchTheModel) { RunSeeds(false); }

TEST(ReferenceModelTest, RandomOperationSequencesWithWriteBackMatchTheModel) { RunSeeds(true); }

}  // namespace
}  // namespace s3mount::reference_model
