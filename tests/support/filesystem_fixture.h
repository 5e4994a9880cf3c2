// FilesystemFixture: the one GoogleTest fixture of the unit tests that drive a Filesystem on
// the in-memory fake store. It owns what those tests share:
//
//   clock_ (FakeClock)
//   store_ (FakeObjectStore: S3 as other clients and the checks see it)
//     <- faulty_ (FaultyObjectStore: scripted failures and latency, attempt counts)
//       <- gated_ (GatedObjectStore: requests held until opened, a journal of changes)
//         <- the Filesystem (by default; FixtureOptions::mount_on picks another layer)
//   metadata_, blocks_ (the caches every mount of one test shares)
//   a staging directory, removed after the Filesystem
//
// and the helpers several tests repeat: Mount (remount with given options), lookups by path,
// readdir/readdirplus into a name -> Entry map, reads of a handle or a whole file, opening for
// write, closing, and creating a file with its bytes. The helpers report failures through
// EXPECT_* (naming the path or handle) and return an empty value, so a test goes on to its own
// checks; tests/support/filesystem_driver.h holds the same operations returning errors.
// A test suite derives from it and adds only its own options and helpers.
//
// Thread-safety: helpers may be called from several threads at once, as the Filesystem's
// methods may; Mount and TearDown only from the test's thread with no other call running.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "s3mount/common/clock.h"
#include "s3mount/fs/filesystem.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_object_store.h"
#include "tests/fakes/faulty_object_store.h"
#include "tests/fakes/gated_object_store.h"
#include "tests/support/subprocess.h"

namespace s3mount::testing {

// Who the helpers create files as; ExpectNewFileInS3 expects its uid and gid.
inline constexpr Caller kFixtureUser{1234, 5678, 022};
// The helpers' default read and write size.
inline constexpr size_t kFixtureChunk = size_t{1} << 20;

class FilesystemFixture : public ::testing::Test {
 protected:
  // The layer of the store stack the Filesystem sends its requests to.
  enum class Layer { kFake, kFaulty, kGated };

  // What a suite chooses once, in its constructor.
  struct FixtureOptions {
    MetadataCacheOptions metadata;  // the metadata cache every mount of the test shares
    // FaultyObjectStore's latency is slept on the system clock (background requests then
    // really overlap the test's own) instead of on clock_ (instantaneous, recorded).
    bool real_time_latency = false;
    Layer mount_on = Layer::kGated;
  };

  FilesystemFixture() : FilesystemFixture(FixtureOptions{}) {}
  explicit FilesystemFixture(const FixtureOptions& fixture);

  // Opens the gate (so nothing waits on it) and unmounts, which waits for queued uploads.
  void TearDown() override;

  // Unmounts the current Filesystem, if any, and mounts a new one with `options` on the same
  // store and caches; an empty staging_directory becomes one inside the fixture's TempDir.
  void Mount(FilesystemOptions options = {});
  Filesystem& fs() { return *filesystem_; }
  // Options whose uploads are multipart from 5 MiB on (S3's smallest part), with 64 MiB of
  // write buffers: what the tests of the write path start from.
  static FilesystemOptions SmallPartOptions();

  // The inode of `path` ("a/b"), looked up component by component; 0 (and a failure) if a
  // component is missing or fails.
  InodeId Inode(const std::string& path);

  // readdir (`plus`: readdirplus) of `directory` in replies of at most `reply_size` entries,
  // as the kernel reads it: name -> entry, without "." and ".."; a failure if the Filesystem
  // fails or gives a name twice.
  std::map<std::string, Entry> List(InodeId directory, bool plus = true, size_t reply_size = 100);

  // The whole content of `inode` through a fresh read-only handle, in reads of `chunk` bytes.
  std::string ReadAll(InodeId inode, size_t chunk = kFixtureChunk);
  // What one read of `size` bytes at `offset` through `handle` returns.
  std::string ReadHandle(uint64_t handle, uint64_t offset = 0, size_t size = kFixtureChunk);

  // open(O_WRONLY [| O_TRUNC]) of `inode`: the handle, or 0 (and a failure).
  uint64_t OpenForWrite(InodeId inode, bool truncate = false);
  // close(): flush (a failure if it fails), then release.
  void Close(uint64_t handle);
  // Creates `name` under `parent` (mode 0644, as kFixtureUser), writes `data` from offset 0 in
  // writes of `chunk` bytes and closes it; the flush's status, or the first failure's (the
  // handle is released either way).
  Status WriteAndClose(const std::string& name, const std::string& data,
                       InodeId parent = kRootInode, size_t chunk = kFixtureChunk);

  std::unique_ptr<TempDir> staging_root_;  // made by the first Mount; removed after filesystem_
  FakeClock clock_;
  SystemClock real_clock_;
  FakeObjectStore store_{clock_};
  FaultyObjectStore faulty_;
  GatedObjectStore gated_{faulty_};
  MetadataCache metadata_;
  BlockCache blocks_{BlockCacheOptions{}};
  std::unique_ptr<Filesystem> filesystem_;

 private:
  ObjectStore& MountedStore();

  const Layer mount_on_;
};

}  // namespace s3mount::testing
