// Test data helpers: byte patterns, file contents, byte comparisons.
#include "tests/support/test_data.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace s3mount::testing {

std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = rng();
    std::memcpy(data.data() + i, &word, std::min<size_t>(8, size - i));
  }
  return data;
}

std::string Pattern(size_t size, char seed) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(seed + (i * 31 + i / 4096) % 26);
  return data;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

::testing::AssertionResult SameBytes(const std::optional<std::string>& actual,
                                     const std::string& expected) {
  if (!actual) return ::testing::AssertionFailure() << "no data (missing object or file)";
  if (actual->size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "size " << actual->size() << ", expected " << expected.size();
  }
  const auto diff = std::mismatch(actual->begin(), actual->end(), expected.begin());
  if (diff.first != actual->end()) {
    return ::testing::AssertionFailure() << "differs at byte " << (diff.first - actual->begin());
  }
  return ::testing::AssertionSuccess();
}

}  // namespace s3mount::testing
