// ObjectChange: one change another client made to the bucket (an object created or removed),
// as an S3 event notification describes it, and the order of two such events for one key
// (their sequencers). The events layer produces them (events/s3_event.h parses the messages);
// the filesystem applies them (Filesystem::ApplyRemoteChange). Both depend on this type; it
// depends on neither.
//
// Thread-safety: plain value types and pure functions.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "s3mount/common/clock.h"

namespace s3mount {

enum class ObjectChangeKind {
  kCreated,  // ObjectCreated:Put, :Post, :Copy, :CompleteMultipartUpload
  kRemoved,  // ObjectRemoved:Delete, :DeleteMarkerCreated, LifecycleExpiration:*
};

// "created" / "removed", for logs.
std::string_view ObjectChangeKindName(ObjectChangeKind kind);

// One record of an event message.
struct ObjectChange {
  ObjectChangeKind kind = ObjectChangeKind::kCreated;
  std::string event_name;  // without any "s3:" prefix: "ObjectCreated:Put"
  std::string bucket;
  std::string key;               // decoded: "dir/a b+c.txt"
  std::optional<uint64_t> size;  // absent on most removals
  std::string etag;              // without quotes; empty when not sent
  std::string sequencer;         // hex as sent; empty when not sent (moto sends none)
  std::string version_id;        // empty when not sent
  std::string event_time;        // as sent ("2024-05-01T12:00:00.123Z"; moto omits the Z)
  std::optional<WallTime> event_wall_time;  // event_time parsed; absent if unreadable
};

// Orders two sequencers of events for the same key: both are hex strings, compared as numbers
// after left-padding the shorter one with '0' (hex digits case-insensitively). An empty
// sequencer (not sent) orders before any non-empty one; callers should treat "no sequencer"
// as unordered rather than rely on that.
std::strong_ordering CompareSequencers(std::string_view a, std::string_view b);

}  // namespace s3mount
