// ObjectChange: the names of change kinds and the order of S3 event sequencers
// (object_change.h).
#include "s3mount/s3/object_change.h"

#include <algorithm>

#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  char lower = AsciiToLower(c);
  if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
  return 16 + static_cast<unsigned char>(c);  // not hex: after every digit, in byte order
}

}  // namespace

std::string_view ObjectChangeKindName(ObjectChangeKind kind) {
  switch (kind) {
    case ObjectChangeKind::kCreated:
      return "created";
    case ObjectChangeKind::kRemoved:
      return "removed";
  }
  return "unknown";
}

std::strong_ordering CompareSequencers(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return !a.empty() <=> !b.empty();
  size_t length = std::max(a.size(), b.size());
  for (size_t i = 0; i < length; ++i) {
    // Position i of the left-padded strings.
    size_t pad_a = length - a.size();
    size_t pad_b = length - b.size();
    int digit_a = i < pad_a ? 0 : HexValue(a[i - pad_a]);
    int digit_b = i < pad_b ? 0 : HexValue(b[i - pad_b]);
    if (digit_a != digit_b) return digit_a <=> digit_b;
  }
  return std::strong_ordering::equal;
}

}  // namespace s3mount
