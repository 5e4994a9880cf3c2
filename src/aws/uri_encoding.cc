// AWS percent-encoding and decoding (see uri_encoding.h).
#include "s3mount/aws/uri_encoding.h"

#include <algorithm>

namespace s3mount {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// Value of a hex digit, or -1.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string UriEncode(std::string_view input, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(input.size() * 3 / 2 + 8);
  for (char ch : input) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

Result<std::string> UrlDecode(std::string_view input, bool plus_is_space) {
  std::string out;
  out.reserve(input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    const char c = input[i];
    if (c == '%') {
      const int hi = i + 1 < input.size() ? HexValue(input[i + 1]) : -1;
      const int lo = i + 2 < input.size() ? HexValue(input[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "malformed percent-escape at offset " + std::to_string(i));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string EncodeQueryString(const std::vector<std::pair<std::string, std::string>>& decoded) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(decoded.size());
  for (const auto& [name, value] : decoded) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  // std::string compares as unsigned bytes (char_traits<char>::lt), i.e. byte order.
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

}  // namespace s3mount
