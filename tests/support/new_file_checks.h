// ExpectNewFileInS3: what a file created and closed through the mount must look like in S3
// (its bytes, s3fs's metadata and the default Content-Type), for the unit tests of the write
// and create paths on the fake store.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "tests/fakes/fake_object_store.h"

namespace s3mount::testing {

// `key` holds `body`, with mode 0100644, uid 1234, gid 5678 (the tests' caller) and an mtime.
inline void ExpectNewFileInS3(const FakeObjectStore& store, const std::string& key,
                              const std::string& body) {
  EXPECT_EQ(store.BodyOf(key), body);
  auto info = store.InfoOf(key);
  ASSERT_TRUE(info.has_value()) << key << " is not in S3";
  EXPECT_EQ(info->user_metadata["mode"], "33188") << "0100644 in decimal, as s3fs writes it";
  EXPECT_EQ(info->user_metadata["uid"], "1234");
  EXPECT_EQ(info->user_metadata["gid"], "5678");
  EXPECT_TRUE(info->user_metadata.contains("mtime"));
  EXPECT_EQ(info->content_type, "application/octet-stream");
}

}  // namespace s3mount::testing
