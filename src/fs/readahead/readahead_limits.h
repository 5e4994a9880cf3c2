// The fixed limits of every readahead in one place (file, listing, directory, lookup), and
// the one rule by which their windows grow. The limits set by options (read_ahead=,
// directory_readahead=, metadata_parallelism=, cache_size=...) come through each component's
// options; docs/READAHEAD.md says how they all share the pools and the memory budget.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace s3mount::readahead {

// File readahead (FileReadahead).
// A read at offset 0 fetches this much at once: most files read from the start are read
// whole, and a small file then costs one GET.
inline constexpr uint64_t kFileFirstRequest = uint64_t{4} << 20;
// Random reads are fetched in whole pages of this size.
inline constexpr uint64_t kRandomReadAlign = 4096;
// Drop-behind: a sequential reader of an object larger than a quarter of the block cache (a
// scan, which would otherwise push everything else out) drops the cached blocks it has read
// once it is this far past them; the kernel's page cache holds what it was served, and
// parallel reads that arrive a little out of order still find their blocks.
inline constexpr uint64_t kDropBehindLag = uint64_t{8} << 20;
inline constexpr uint64_t kDropBehindShareOfCache = 4;
// How far from where the last read ended a read may start and still begin a sequential run.
inline constexpr uint64_t kRandomSlack = uint64_t{64} << 10;

// Listing readahead (ListingReadahead), for a READDIR(PLUS) reader, in entries: LIST pages
// are read and (with per-object metadata) HEADs queued this far ahead of the reply being
// built, kListingFirstWindow at the start, growing with what the reader has consumed up to
// kListingMaxWindow, so a reader that stops early (a plain `ls`, whose first reply only is
// readdirplus) has cost a few hundred HEADs at most.
inline constexpr uint64_t kListingFirstWindow = 256;
inline constexpr uint64_t kListingMaxWindow = 1024;
// A readdirplus reply with at least this many entries is sent as soon as the next entry's
// HEAD has not answered yet: the kernel and `ls` work through it while the HEADs go on.
inline constexpr size_t kEarlyReplyEntries = 32;

// Directory readahead (whole small files ahead of in-order opens) and lookup readahead
// (HEADs ahead of in-order lookups) follow readers of a directory's cached listing.
// Directories followed at once by each of them; the least recently used makes room.
inline constexpr size_t kFollowedDirectories = 16;
// A forward step over at most this many entries still counts as in order: a glob that skips
// some names (`cat dir/*.txt`), or a locale's collation that sorts a few names differently.
inline constexpr size_t kMaxInOrderStep = 4;
// Files fetched ahead when directory readahead starts (then doubling, up to the option).
inline constexpr size_t kDirectoryFirstWindow = 4;
// Entries HEADed ahead when lookup readahead starts (then doubling, up to the option).
inline constexpr size_t kLookupFirstWindow = 8;

// The window after one more step in order: `first` to start with (0 means not started), then
// doubling, never above `max`. Every readahead grows its window this way.
template <typename Size>
Size GrowWindow(Size window, Size first, Size max) {
  return window == 0 ? std::min(first, max) : std::min(window * 2, max);
}

}  // namespace s3mount::readahead
