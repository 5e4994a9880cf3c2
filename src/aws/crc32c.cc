// CRC32C through ISA-L, and the GF(2) arithmetic that combines two CRCs (as zlib's
// crc32_combine does for CRC-32, with the Castagnoli polynomial).
#include "s3mount/aws/crc32c.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <array>

#include "s3mount/aws/crypto.h"

namespace s3mount {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;  // Castagnoli, bit-reversed

// a * b modulo the polynomial; bit 31 is x^0 (reflected representation).
uint32_t MultiplyModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t mask = uint32_t{1} << 31; mask != 0; mask >>= 1) {
    if ((a & mask) != 0) {
      product ^= b;
      if ((a & (mask - 1)) == 0) break;
    }
    b = (b & 1) != 0 ? (b >> 1) ^ kPolynomial : b >> 1;
  }
  return product;
}

// table[k] = x^(2^k) modulo the polynomial.
std::array<uint32_t, 32> PowersOfTwoTable() {
  std::array<uint32_t, 32> table{};
  uint32_t p = uint32_t{1} << 30;  // x^1
  table[0] = p;
  for (size_t n = 1; n < table.size(); ++n) table[n] = p = MultiplyModP(p, p);
  return table;
}

// x^(n * 2^k) modulo the polynomial.
uint32_t XPowerModP(uint64_t n, unsigned k) {
  static const std::array<uint32_t, 32> kTable = PowersOfTwoTable();
  uint32_t p = uint32_t{1} << 31;  // x^0
  while (n != 0) {
    if ((n & 1) != 0) p = MultiplyModP(kTable[k & 31], p);
    n >>= 1;
    ++k;
  }
  return p;
}

}  // namespace

uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data); }

uint32_t Crc32cExtend(uint32_t crc, std::string_view data) {
  // ISA-L takes and returns the CRC register before the final XOR.
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  uint32_t reg = ~crc;
  // crc32_iscsi takes an int length: feed large buffers in pieces.
  constexpr size_t kPiece = size_t{1} << 30;
  while (data.size() > 0) {
    const size_t n = std::min(data.size(), kPiece);
    reg = crc32_iscsi(const_cast<unsigned char*>(bytes), static_cast<int>(n), reg);
    bytes += n;
    data.remove_prefix(n);
  }
  return ~reg;
}

uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  return MultiplyModP(XPowerModP(length_b, 3), crc_a) ^ crc_b;
}

std::string Crc32cBase64(uint32_t crc) {
  const std::array<char, 4> bytes{static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                                  static_cast<char>(crc >> 8), static_cast<char>(crc)};
  return Base64Encode(std::string_view(bytes.data(), bytes.size()));
}

std::optional<uint32_t> ParseCrc32cBase64(std::string_view text) {
  auto bytes = Base64Decode(text);
  if (!bytes.ok() || bytes->size() != 4) return std::nullopt;
  uint32_t crc = 0;
  for (const char c : *bytes) crc = (crc << 8) | static_cast<unsigned char>(c);
  return crc;
}

}  // namespace s3mount
