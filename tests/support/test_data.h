// Test data helpers shared by unit and integration tests: reproducible byte patterns, whole
// files read back, and a byte comparison that reports where two large buffers differ instead
// of printing them.
//
// Thread-safety: pure functions.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

namespace s3mount::testing {

// `size` pseudo-random bytes; the same seed gives the same bytes.
std::string RandomBytes(size_t size, uint64_t seed);
// `size` printable bytes in a pattern that does not repeat within 4 KiB blocks.
std::string Pattern(size_t size, char seed = 'a');
// The whole content of the file at `path` ("" if it cannot be read).
std::string ReadFile(const std::string& path);
// Success if the two are equal; else says the sizes or the first differing offset.
::testing::AssertionResult SameBytes(const std::optional<std::string>& actual,
                                     const std::string& expected);

}  // namespace s3mount::testing
