// Build-time paths for tests.
#include "tests/support/test_paths.h"

namespace s3mount::testing {

std::string TestDataDir() { return S3MOUNT_TESTDATA_DIR; }
std::string SourceDir() { return S3MOUNT_SOURCE_DIR; }

}  // namespace s3mount::testing
