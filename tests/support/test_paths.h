// Where test data and helper scripts live, fixed at build time.
#pragma once

#include <string>

namespace s3mount::testing {

// tests/testdata in the source tree.
std::string TestDataDir();
// The repository root.
std::string SourceDir();

}  // namespace s3mount::testing
