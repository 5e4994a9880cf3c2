// Percent-encoding as AWS SigV4 and S3 want it: the canonical URI, the canonical query string
// and the query string on the wire are all built from these.
//
// Thread-safety: pure functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "s3mount/common/result.h"

namespace s3mount {

// AWS UriEncode: keeps the unreserved characters A-Z a-z 0-9 '-' '_' '.' '~' (and '/' when
// `encode_slash` is false); every other byte becomes %XX with uppercase hex. Works byte by
// byte, so UTF-8 text is encoded as its UTF-8 bytes. ' ' becomes %20, never '+'.
std::string UriEncode(std::string_view input, bool encode_slash);

// Inverse of percent-encoding: %XX (either hex case) becomes the byte; with `plus_is_space`
// ('application/x-www-form-urlencoded' query values) '+' becomes ' '. A '%' not followed by
// two hex digits is an error (kInvalidArgument). The result may hold any bytes.
Result<std::string> UrlDecode(std::string_view input, bool plus_is_space);

// The canonical query string of decoded (name, value) pairs: both UriEncoded (with '/'
// encoded), sorted by encoded name and then encoded value (byte order), joined as
// "n1=v1&n2=v2". An empty value gives "name=". Repeated names are kept. Empty input gives "".
// The result is valid on the wire as well.
std::string EncodeQueryString(const std::vector<std::pair<std::string, std::string>>& decoded);

}  // namespace s3mount
