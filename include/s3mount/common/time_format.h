// Parsing and formatting of the two timestamp formats S3 speaks: ISO 8601 in XML bodies
// (`<LastModified>2009-10-12T17:50:30.000Z</LastModified>`, credential expiry) and HTTP dates
// in headers (`Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT`).
//
// Everything is UTC calendar arithmetic on std::chrono: no locale, no TZ environment, no
// strptime/timegm/gmtime, so results do not depend on the machine's settings.
//
// Thread-safety: pure functions, safe to call from any thread.
#pragma once

#include <string>
#include <string_view>

#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"

namespace s3mount {

// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]`. The fraction may have 1 to 9
// digits (milliseconds as S3 sends, microseconds, nanoseconds). A missing zone designator
// means UTC (moto sometimes omits the `Z`). A leap second (`:60`) is accepted and lands on the
// next second. Surrounding ASCII whitespace is ignored. Anything else, or a date that does
// not fit WallTime, is an Error of kind kInvalidResponse.
Result<WallTime> ParseIso8601(std::string_view text);

// Parses an HTTP date in any of the three forms RFC 7231 section 7.1.1.1 says a recipient
// must accept:
//   IMF-fixdate  `Sun, 06 Nov 1994 08:49:37 GMT`   (what servers send today)
//   RFC 850      `Sunday, 06-Nov-94 08:49:37 GMT`  (obsolete; two-digit year: 00-69 means
//                                                   20xx, 70-99 means 19xx)
//   asctime      `Sun Nov  6 08:49:37 1994`        (obsolete; a single-digit day may be
//                                                   space- or zero-padded)
// Day and month names are matched case-insensitively; the weekday name must be a real one but
// is not checked against the date. `UTC` is accepted in place of `GMT`. Errors are of kind
// kInvalidResponse.
Result<WallTime> ParseHttpDate(std::string_view text);

// Formats as IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`; sub-second parts are dropped
// (rounded toward the past).
std::string FormatHttpDate(WallTime time);

// Formats as S3 does, with milliseconds: `2009-10-12T17:50:30.000Z` (rounded toward the
// past). Round-trips through ParseIso8601 for times with whole milliseconds.
std::string FormatIso8601(WallTime time);

}  // namespace s3mount
