// ISO 8601 and HTTP-date parsing and formatting with std::chrono calendar arithmetic (no
// locale, no TZ, no libc time functions).
#include "s3mount/common/time_format.h"

#include <array>
#include <chrono>
#include <cstdint>

#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

using std::chrono::days;
using std::chrono::duration_cast;
using std::chrono::floor;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using std::chrono::sys_days;

constexpr std::array<std::string_view, 7> kWeekdayShort = {"Sun", "Mon", "Tue", "Wed",
                                                           "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kWeekdayLong = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr size_t kMaxQuoted = 64;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The input, shortened and with non-printable bytes replaced, for error messages.
std::string Quote(std::string_view text) {
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kMaxQuoted; ++i) {
    const char c = text[i];
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (text.size() > kMaxQuoted) out += "...";
  out += "'";
  return out;
}

// A forward-only reader over the text being parsed.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ == text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  bool Consume(char c) {
    if (Peek() != c || AtEnd()) return false;
    ++pos_;
    return true;
  }

  // Reads between `min_count` and `max_count` decimal digits into `out`.
  bool Digits(int min_count, int max_count, int* out) {
    int count = 0;
    int value = 0;
    while (count < max_count && IsDigit(Peek())) {
      value = value * 10 + (text_[pos_] - '0');
      ++pos_;
      ++count;
    }
    *out = value;
    return count >= min_count;
  }

  // Reads a run of ASCII letters.
  std::string_view Word() {
    const size_t start = pos_;
    while (IsAlpha(Peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

struct CivilTime {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int64_t nanos = 0;
  int64_t offset_seconds = 0;  // the zone's offset east of UTC
};

Error BadTime(std::string_view what, std::string_view text) {
  return MakeError(ErrorCode::kInvalidResponse, "not " + std::string(what) + ": " + Quote(text));
}

// Converts a civil UTC time to WallTime, rejecting impossible dates and ones WallTime (64-bit
// nanoseconds on libstdc++: years 1678-2261) cannot hold.
Result<WallTime> ToWallTime(const CivilTime& t, std::string_view what, std::string_view text) {
  const std::chrono::year_month_day ymd{std::chrono::year{t.year},
                                        std::chrono::month{static_cast<unsigned>(t.month)},
                                        std::chrono::day{static_cast<unsigned>(t.day)}};
  if (!ymd.ok() || t.hour > 23 || t.minute > 59 || t.second > 60) return BadTime(what, text);
  const int64_t day_count = sys_days(ymd).time_since_epoch().count();
  const int64_t total = day_count * 86400 + int64_t{t.hour} * 3600 + int64_t{t.minute} * 60 +
                        t.second - t.offset_seconds;
  constexpr int64_t kMaxSeconds = floor<seconds>(WallTime::duration::max()).count() - 1;
  constexpr int64_t kMinSeconds = floor<seconds>(WallTime::duration::min()).count() + 1;
  if (total > kMaxSeconds || total < kMinSeconds) {
    return MakeError(ErrorCode::kInvalidResponse, "time out of range: " + Quote(text));
  }
  return WallTime(duration_cast<WallTime::duration>(seconds(total)) +
                  duration_cast<WallTime::duration>(nanoseconds(t.nanos)));
}

// Reads `HH:MM:SS`.
bool ScanClock(Scanner& in, CivilTime* t) {
  return in.Digits(2, 2, &t->hour) && in.Consume(':') && in.Digits(2, 2, &t->minute) &&
         in.Consume(':') && in.Digits(2, 2, &t->second);
}

// Reads `.fraction` if present: any number of digits, the first nine of which count.
bool ScanFraction(Scanner& in, CivilTime* t) {
  if (!in.Consume('.') && !in.Consume(',')) return true;
  if (!IsDigit(in.Peek())) return false;
  int64_t scale = 100'000'000;
  while (IsDigit(in.Peek())) {
    int digit = 0;
    (void)in.Digits(1, 1, &digit);
    t->nanos += digit * scale;
    scale /= 10;
  }
  return true;
}

// Reads the zone designator: nothing (UTC), `Z`, or `+HH:MM` / `-HH:MM` / `+HHMM`.
bool ScanZone(Scanner& in, CivilTime* t) {
  if (in.AtEnd()) return true;
  if (in.Consume('Z') || in.Consume('z')) return in.AtEnd();
  int sign = 0;
  if (in.Consume('+')) {
    sign = 1;
  } else if (in.Consume('-')) {
    sign = -1;
  } else {
    return false;
  }
  int hours = 0;
  int minutes = 0;
  if (!in.Digits(2, 2, &hours)) return false;
  (void)in.Consume(':');
  if (!in.Digits(2, 2, &minutes) || hours > 23 || minutes > 59) return false;
  t->offset_seconds = int64_t{sign} * (int64_t{hours} * 3600 + int64_t{minutes} * 60);
  return in.AtEnd();
}

// Index of `name` in `names` (case-insensitive), or -1.
template <size_t N>
int IndexOf(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (EqualsIgnoreCase(names[i], name)) return static_cast<int>(i);
  }
  return -1;
}

bool IsWeekday(std::string_view name) {
  return IndexOf(kWeekdayShort, name) >= 0 || IndexOf(kWeekdayLong, name) >= 0;
}

bool ScanMonth(Scanner& in, CivilTime* t) {
  const int index = IndexOf(kMonths, in.Word());
  t->month = index + 1;
  return index >= 0;
}

bool ScanGmt(Scanner& in) {
  const std::string_view zone = in.Word();
  return (EqualsIgnoreCase(zone, "GMT") || EqualsIgnoreCase(zone, "UTC")) && in.AtEnd();
}

// After `Weekday, `: `06 Nov 1994 08:49:37 GMT` or `06-Nov-94 08:49:37 GMT`.
bool ScanAfterComma(Scanner& in, CivilTime* t) {
  if (!in.Consume(' ') || !in.Digits(1, 2, &t->day)) return false;
  if (in.Consume('-')) {  // RFC 850
    int two_digit_year = 0;
    if (!ScanMonth(in, t) || !in.Consume('-') || !in.Digits(2, 2, &two_digit_year)) {
      return false;
    }
    t->year = two_digit_year < 70 ? 2000 + two_digit_year : 1900 + two_digit_year;
  } else if (!in.Consume(' ') || !ScanMonth(in, t) || !in.Consume(' ') ||
             !in.Digits(4, 4, &t->year)) {
    return false;
  }
  return in.Consume(' ') && ScanClock(in, t) && in.Consume(' ') && ScanGmt(in);
}

// After `Sun `: `Nov  6 08:49:37 1994` (asctime).
bool ScanAsctime(Scanner& in, CivilTime* t) {
  if (!ScanMonth(in, t) || !in.Consume(' ')) return false;
  if (in.Consume(' ')) {
    if (!in.Digits(1, 1, &t->day)) return false;
  } else if (!in.Digits(1, 2, &t->day)) {
    return false;
  }
  return in.Consume(' ') && ScanClock(in, t) && in.Consume(' ') && in.Digits(4, 4, &t->year) &&
         in.AtEnd();
}

void AppendPadded(std::string& out, int64_t value, int width) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()); i < width; ++i) out += '0';
  out += digits;
}

struct Broken {
  std::chrono::year_month_day ymd;
  std::chrono::weekday weekday;
  int64_t second_of_day = 0;
};

// Splits a time into calendar parts with integer arithmetic on whole seconds, so that no
// intermediate value overflows even at WallTime::min() or max().
Broken BreakDown(WallTime time) {
  const int64_t total = floor<seconds>(time.time_since_epoch()).count();
  int64_t day_count = total / 86400;
  int64_t second_of_day = total % 86400;
  if (second_of_day < 0) {
    second_of_day += 86400;
    --day_count;
  }
  const sys_days day_point{days(day_count)};
  return Broken{std::chrono::year_month_day{day_point}, std::chrono::weekday{day_point},
                second_of_day};
}

// The milliseconds within the second, 0..999, rounded toward the past.
int64_t MillisOfSecond(WallTime time) {
  auto fraction = time.time_since_epoch() % seconds(1);
  if (fraction < fraction.zero()) fraction += seconds(1);
  return duration_cast<std::chrono::milliseconds>(fraction).count();
}

void AppendClock(std::string& out, int64_t second_of_day) {
  AppendPadded(out, second_of_day / 3600, 2);
  out += ':';
  AppendPadded(out, second_of_day / 60 % 60, 2);
  out += ':';
  AppendPadded(out, second_of_day % 60, 2);
}

}  // namespace

Result<WallTime> ParseIso8601(std::string_view text) {
  constexpr std::string_view kWhat = "an ISO 8601 time";
  const std::string_view trimmed = TrimAsciiSpace(text);
  Scanner in(trimmed);
  CivilTime t;
  const bool ok = in.Digits(4, 4, &t.year) && in.Consume('-') && in.Digits(2, 2, &t.month) &&
                  in.Consume('-') && in.Digits(2, 2, &t.day) &&
                  (in.Consume('T') || in.Consume('t')) && ScanClock(in, &t) &&
                  ScanFraction(in, &t) && ScanZone(in, &t);
  if (!ok) return BadTime(kWhat, text);
  return ToWallTime(t, kWhat, text);
}

Result<WallTime> ParseHttpDate(std::string_view text) {
  constexpr std::string_view kWhat = "an HTTP date";
  const std::string_view trimmed = TrimAsciiSpace(text);
  Scanner in(trimmed);
  CivilTime t;
  if (!IsWeekday(in.Word())) return BadTime(kWhat, text);
  const bool ok =
      in.Consume(',') ? ScanAfterComma(in, &t) : (in.Consume(' ') && ScanAsctime(in, &t));
  if (!ok) return BadTime(kWhat, text);
  return ToWallTime(t, kWhat, text);
}

std::string FormatHttpDate(WallTime time) {
  const Broken b = BreakDown(time);
  std::string out;
  out.reserve(29);
  out += kWeekdayShort[b.weekday.c_encoding()];
  out += ", ";
  AppendPadded(out, static_cast<unsigned>(b.ymd.day()), 2);
  out += ' ';
  out += kMonths[static_cast<unsigned>(b.ymd.month()) - 1];
  out += ' ';
  AppendPadded(out, static_cast<int>(b.ymd.year()), 4);
  out += ' ';
  AppendClock(out, b.second_of_day);
  out += " GMT";
  return out;
}

std::string FormatIso8601(WallTime time) {
  const Broken b = BreakDown(time);
  std::string out;
  out.reserve(24);
  AppendPadded(out, static_cast<int>(b.ymd.year()), 4);
  out += '-';
  AppendPadded(out, static_cast<unsigned>(b.ymd.month()), 2);
  out += '-';
  AppendPadded(out, static_cast<unsigned>(b.ymd.day()), 2);
  out += 'T';
  AppendClock(out, b.second_of_day);
  out += '.';
  AppendPadded(out, MillisOfSecond(time), 3);
  out += 'Z';
  return out;
}

}  // namespace s3mount
