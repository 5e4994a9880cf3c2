// RangeSet: a set of byte ranges [begin, end) kept disjoint and merged, for the parts of an
// open file that were written locally (and so live in its staging file) rather than in S3.
//
// Thread-safety: none; the owner (an OpenFile) serializes access.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace s3mount {

struct ByteSpan {
  uint64_t begin = 0;
  uint64_t end = 0;  // exclusive
  uint64_t size() const { return end - begin; }
  bool operator==(const ByteSpan&) const = default;
};

class RangeSet {
 public:
  // Adds [begin, end); returns how many of its bytes were not in the set before.
  uint64_t Add(uint64_t begin, uint64_t end);
  // Removes everything at or beyond `size`; returns how many bytes were removed.
  uint64_t TruncateTo(uint64_t size);
  void Clear() { spans_.clear(); }

  bool empty() const { return spans_.empty(); }
  uint64_t total() const;
  // Whether any byte of [begin, end) is in the set.
  bool Overlaps(uint64_t begin, uint64_t end) const;
  // [begin, end) cut into consecutive pieces, each flagged as in the set or not.
  struct Piece {
    ByteSpan span;
    bool present = false;
  };
  std::vector<Piece> Split(uint64_t begin, uint64_t end) const;
  std::vector<ByteSpan> spans() const;

 private:
  std::map<uint64_t, uint64_t> spans_;  // begin -> end, disjoint, not adjacent
};

}  // namespace s3mount
