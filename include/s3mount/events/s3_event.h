// S3 event notifications: turns one message body, as it arrives from SQS, SNS or a Redis
// bridge, into the list of object changes it describes, and the two decisions the listener
// needs about a change: which of two events for a key is newer (sequencers), and whether a
// change concerns a mount at all (bucket and prefix).
//
// Accepted bodies:
//  - S3's own `{"Records":[...]}` (AWS sends `eventName` without the `s3:` prefix, moto and
//    MinIO with it), keys form-encoded (`+` is a space, then %XX; `/` may arrive as `%2F`);
//  - the SNS envelope `{"Type":"Notification","Message":"<the S3 JSON as a string>",...}`;
//  - the `s3:TestEvent` message S3 sends when a notification is configured (no changes);
//  - MinIO's `access` format: a JSON array of `{"Event":[<records>],"EventTime":"..."}`.
// `ObjectCreated:*` is a creation, `ObjectRemoved:*` (Delete, DeleteMarkerCreated) and
// `LifecycleExpiration:*` (a lifecycle rule's expiry) a removal;
// other event names (ObjectRestore, Replication, LifecycleTransition, ObjectAccessed...) are
// counted as skipped, not errors. Anything else is an Error of kind kInvalidArgument whose
// message says what was wrong; malformed input never crashes or throws.
//
//   auto message = ParseS3EventMessage(body);
//   if (!message.ok()) { log(message.error().message); delete it anyway; }
//   for (const ObjectChange& change : message->changes)
//     if (IsChangeRelevant(change, "my-bucket", "photos/")) Invalidate(change);
//
// Thread-safety: pure functions and plain value types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"
#include "s3mount/s3/object_change.h"

namespace s3mount {

struct S3EventMessage {
  std::vector<ObjectChange> changes;  // in message order
  bool test_event = false;            // an s3:TestEvent (then `changes` is empty)
  size_t skipped_records = 0;         // records whose event name changes no object
};

// Bodies larger than this are refused (SQS caps messages at 256 KiB).
inline constexpr size_t kMaxS3EventMessageBytes = size_t{1} << 20;

// Parses one message body (see the top of this file). Errors are kInvalidArgument.
Result<S3EventMessage> ParseS3EventMessage(std::string_view body);

// Whether `change` concerns a mount of `bucket` at `prefix` ("" for the whole bucket, else
// "a/b/"; a prefix without its trailing '/' is read as if it had one): the bucket is equal
// and the key starts with the prefix (so the prefix's own "a/b/" marker is relevant, the
// object "a/b" beside it is not).
bool IsChangeRelevant(const ObjectChange& change, std::string_view bucket, std::string_view prefix);

}  // namespace s3mount
