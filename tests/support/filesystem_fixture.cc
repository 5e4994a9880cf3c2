// FilesystemFixture: the shared fixture of the unit tests that drive a Filesystem on the fake
// store (mounting, and the helpers built on tests/support/filesystem_driver.h).
#include "tests/support/filesystem_fixture.h"

#include <string_view>
#include <utility>

#include "tests/support/filesystem_driver.h"

namespace s3mount::testing {

FilesystemFixture::FilesystemFixture(const FixtureOptions& fixture)
    : faulty_(store_, fixture.real_time_latency ? static_cast<Clock&>(real_clock_) : clock_),
      metadata_(fixture.metadata),
      mount_on_(fixture.mount_on) {}

void FilesystemFixture::TearDown() {
  gated_.Open();
  filesystem_.reset();
}

ObjectStore& FilesystemFixture::MountedStore() {
  switch (mount_on_) {
    case Layer::kFake:
      return store_;
    case Layer::kFaulty:
      return faulty_;
    case Layer::kGated:
      break;
  }
  return gated_;
}

void FilesystemFixture::Mount(FilesystemOptions options) {
  filesystem_.reset();
  if (options.staging_directory.empty()) {
    if (staging_root_ == nullptr) {
      auto root = TempDir::Create("s3mount-filesystem-test");
      ASSERT_TRUE(root.ok()) << root.error().ToString();
      staging_root_ = std::move(root).value();
    }
    options.staging_directory = staging_root_->File("staging");
  }
  auto created = Filesystem::Create(MountedStore(), clock_, metadata_, blocks_, std::move(options));
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  filesystem_ = std::move(created).value();
}

FilesystemOptions FilesystemFixture::SmallPartOptions() {
  FilesystemOptions options;
  options.part_size = uint64_t{5} << 20;
  options.write_memory = uint64_t{64} << 20;
  return options;
}

InodeId FilesystemFixture::Inode(const std::string& path) {
  auto inode = LookupPath(fs(), path);
  EXPECT_TRUE(inode.ok()) << path << ": " << inode.error().ToString();
  return inode.ok() ? *inode : 0;
}

std::map<std::string, Entry> FilesystemFixture::List(InodeId directory, bool plus,
                                                     size_t reply_size) {
  auto entries = ReadDirectory(fs(), directory, plus, reply_size);
  EXPECT_TRUE(entries.ok()) << (plus ? "readdirplus of inode " : "readdir of inode ") << directory
                            << ": " << entries.error().ToString();
  return entries.ok() ? *std::move(entries) : std::map<std::string, Entry>{};
}

std::string FilesystemFixture::ReadAll(InodeId inode, size_t chunk) {
  auto data = ReadWhole(fs(), inode, chunk);
  EXPECT_TRUE(data.ok()) << "reading inode " << inode << ": " << data.error().ToString();
  return data.ok() ? *std::move(data) : std::string();
}

std::string FilesystemFixture::ReadHandle(uint64_t handle, uint64_t offset, size_t size) {
  auto data = testing::ReadHandle(fs(), handle, offset, size);
  EXPECT_TRUE(data.ok()) << "reading handle " << handle << " at " << offset << ": "
                         << data.error().ToString();
  return data.ok() ? *std::move(data) : std::string();
}

uint64_t FilesystemFixture::OpenForWrite(InodeId inode, bool truncate) {
  auto opened = fs().Open(inode, {.write = true, .truncate = truncate});
  EXPECT_TRUE(opened.ok()) << "opening inode " << inode << ": " << opened.error().ToString();
  return opened.ok() ? opened->handle : 0;
}

void FilesystemFixture::Close(uint64_t handle) {
  Status flushed = fs().Flush(handle);
  EXPECT_TRUE(flushed.ok()) << "closing handle " << handle << ": " << flushed.error().ToString();
  fs().Release(handle);
}

Status FilesystemFixture::WriteAndClose(const std::string& name, const std::string& data,
                                        InodeId parent, size_t chunk) {
  auto created = fs().Create(parent, name, 0644, false, {.write = true}, kFixtureUser);
  if (!created.ok()) return std::move(created).error();
  const uint64_t handle = created->file.handle;
  for (size_t at = 0; at < data.size(); at += chunk) {
    auto written = fs().Write(handle, at, std::string_view(data).substr(at, chunk));
    if (!written.ok()) {
      fs().Release(handle);
      return std::move(written).error();
    }
  }
  Status flushed = fs().Flush(handle);
  fs().Release(handle);
  return flushed;
}

}  // namespace s3mount::testing
