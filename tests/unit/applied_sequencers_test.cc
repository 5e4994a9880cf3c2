// Tests of AppliedSequencers: late and repeated S3 events are skipped, memory is bounded.
#include "fs/applied_sequencers.h"

#include <gtest/gtest.h>

namespace s3mount {
namespace {

TEST(AppliedSequencersTest, OlderAndRepeatedEventsAreSkipped) {
  AppliedSequencers applied;
  EXPECT_FALSE(applied.AlreadyApplied("k", "0055AED6DCD90281E5"));
  EXPECT_TRUE(applied.AlreadyApplied("k", "0055AED6DCD90281E5")) << "the same event twice";
  EXPECT_TRUE(applied.AlreadyApplied("k", "0055AED6DCD90281E4")) << "an older event";
  EXPECT_FALSE(applied.AlreadyApplied("k", "0055AED6DCD90281E6")) << "a newer event";
  EXPECT_FALSE(applied.AlreadyApplied("other", "0055AED6DCD90281E4")) << "sequencers are per key";
  EXPECT_FALSE(applied.AlreadyApplied("k", "")) << "no sequencer: always applied";
  EXPECT_FALSE(applied.AlreadyApplied("k", ""));
}

TEST(AppliedSequencersTest, TheOldestKeysAreForgottenPastTheCapacity) {
  AppliedSequencers applied(2);
  EXPECT_FALSE(applied.AlreadyApplied("a", "10"));
  EXPECT_FALSE(applied.AlreadyApplied("b", "10"));
  EXPECT_FALSE(applied.AlreadyApplied("c", "10"));  // "a" is forgotten
  EXPECT_FALSE(applied.AlreadyApplied("a", "10")) << "a forgotten key applies again";
  EXPECT_TRUE(applied.AlreadyApplied("c", "10"));
}

}  // namespace
}  // namespace s3mount
