// Tests for ISO 8601 and HTTP-date parsing/formatting (s3mount/common/time_format.h).
#include "s3mount/common/time_format.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace s3mount {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

WallTime At(int64_t unix_seconds) { return WallTime(seconds(unix_seconds)); }

// 1994-11-06T08:49:37Z, RFC 7231's example date.
constexpr int64_t kRfcExample = 784111777;
// 2009-10-12T17:50:30Z, the S3 docs' LastModified example.
constexpr int64_t kS3Example = 1255369830;

void ExpectIso(std::string_view text, WallTime expected) {
  auto parsed = ParseIso8601(text);
  ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().ToString();
  EXPECT_EQ(parsed->time_since_epoch().count(), expected.time_since_epoch().count()) << text;
}

void ExpectIsoError(std::string_view text) {
  auto parsed = ParseIso8601(text);
  ASSERT_FALSE(parsed.ok()) << "accepted '" << text << "' as "
                            << parsed->time_since_epoch().count();
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidResponse) << text;
}

void ExpectHttp(std::string_view text, WallTime expected) {
  auto parsed = ParseHttpDate(text);
  ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().ToString();
  EXPECT_EQ(parsed->time_since_epoch().count(), expected.time_since_epoch().count()) << text;
}

void ExpectHttpError(std::string_view text) {
  auto parsed = ParseHttpDate(text);
  ASSERT_FALSE(parsed.ok()) << "accepted '" << text << "' as "
                            << parsed->time_since_epoch().count();
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidResponse) << text;
}

TEST(ParseIso8601Test, S3LastModifiedForms) {
  ExpectIso("2009-10-12T17:50:30.000Z", At(kS3Example));
  ExpectIso("2009-10-12T17:50:30Z", At(kS3Example));
  ExpectIso("2009-10-12T17:50:30.123Z", At(kS3Example) + milliseconds(123));
  ExpectIso("2009-10-12T17:50:30.123456Z", At(kS3Example) + microseconds(123456));
  ExpectIso("2009-10-12T17:50:30.123456789Z", At(kS3Example) + nanoseconds(123456789));
  ExpectIso("2009-10-12T17:50:30.5Z", At(kS3Example) + milliseconds(500));
  // Digits beyond nanoseconds are ignored, not rounded.
  ExpectIso("2009-10-12T17:50:30.1234567899Z", At(kS3Example) + nanoseconds(123456789));
}

TEST(ParseIso8601Test, MissingZoneMeansUtc) {
  // moto sometimes sends timestamps without the Z.
  ExpectIso("2009-10-12T17:50:30.000", At(kS3Example));
  ExpectIso("2009-10-12T17:50:30", At(kS3Example));
  ExpectIso("2009-10-12T17:50:30.654321", At(kS3Example) + microseconds(654321));
}

TEST(ParseIso8601Test, OffsetsLowercaseAndWhitespace) {
  ExpectIso("2009-10-12T19:50:30+02:00", At(kS3Example));
  ExpectIso("2009-10-12T19:50:30+0200", At(kS3Example));
  ExpectIso("2009-10-12T12:20:30-05:30", At(kS3Example));
  ExpectIso("2009-10-12T17:50:30+00:00", At(kS3Example));
  ExpectIso("2009-10-12t17:50:30z", At(kS3Example));
  ExpectIso("  2009-10-12T17:50:30.000Z\n", At(kS3Example));
}

TEST(ParseIso8601Test, CalendarEdges) {
  ExpectIso("1970-01-01T00:00:00Z", At(0));
  ExpectIso("1969-12-31T23:59:59.500Z", At(0) - milliseconds(500));
  ExpectIso("2024-02-29T12:00:00Z", At(1709208000));
  ExpectIso("2000-03-01T00:00:00Z", At(951868800));
  // A leap second lands on the next second.
  ExpectIso("2016-12-31T23:59:60Z", At(1483228800));
  // WallTime (int64 nanoseconds) ends at 2262-04-11T23:47:16.854775807Z.
  ExpectIso("2262-04-11T23:47:15Z", At(9223372035));
  ExpectIsoError("2262-04-11T23:47:16Z");
  ExpectIsoError("9999-12-31T23:59:59Z");
  ExpectIsoError("1600-01-01T00:00:00Z");
  ExpectIsoError("0000-01-01T00:00:00Z");
}

TEST(ParseIso8601Test, RejectsImpossibleValues) {
  ExpectIsoError("2023-02-29T00:00:00Z");  // not a leap year
  ExpectIsoError("1900-02-29T00:00:00Z");  // not a leap year either
  ExpectIsoError("2009-13-12T17:50:30Z");
  ExpectIsoError("2009-00-12T17:50:30Z");
  ExpectIsoError("2009-10-00T17:50:30Z");
  ExpectIsoError("2009-10-32T17:50:30Z");
  ExpectIsoError("2009-04-31T17:50:30Z");
  ExpectIsoError("2009-10-12T24:00:00Z");
  ExpectIsoError("2009-10-12T17:60:30Z");
  ExpectIsoError("2009-10-12T17:50:61Z");
  ExpectIsoError("2009-10-12T17:50:30+24:00");
  ExpectIsoError("2009-10-12T17:50:30+02:60");
}

TEST(ParseIso8601Test, RejectsMalformedText) {
  for (const char* text : {"",
                           " ",
                           "garbage",
                           "2009-10-12",
                           "2009-10-12T17:50Z",
                           "2009-10-12 17:50:30Z",
                           "09-10-12T17:50:30Z",
                           "2009-1-12T17:50:30Z",
                           "2009-10-12T7:50:30Z",
                           "2009-1a-12T17:50:30Z",
                           "2009/10/12T17:50:30Z",
                           "2009-10-12T17:50:30.Z",
                           "2009-10-12T17:50:30.000ZZ",
                           "2009-10-12T17:50:30.000Z junk",
                           "2009-10-12T17:50:30 Z",
                           "2009-10-12T17:50:30+5:00",
                           "2009-10-12T17:50:30+05:",
                           "2009-10-12T17:50:30EST",
                           "+2009-10-12T17:50:30Z",
                           "-2009-10-12T17:50:30Z",
                           "20091012T175030Z"}) {
    ExpectIsoError(text);
  }
  // Embedded NUL must not end parsing early.
  ExpectIsoError(std::string_view("2009-10-12T17:50:30Z\0junk", 25));
}

TEST(ParseIso8601Test, EveryPrefixOfAValidTimeFailsCleanly) {
  const std::string full = "2009-10-12T17:50:30.123+02:00";
  for (size_t n = 0; n < full.size(); ++n) {
    const std::string prefix = full.substr(0, n);
    auto parsed = ParseIso8601(prefix);
    // The only valid prefixes are the ones ending right after the seconds or the fraction.
    const bool may_parse = n == 19 || n == 21 || n == 22 || n == 23;
    EXPECT_EQ(parsed.ok(), may_parse) << "prefix '" << prefix << "'";
  }
}

TEST(ParseIso8601Test, ErrorQuotesInputButBoundsIt) {
  auto parsed = ParseIso8601("2009-99-12T17:50:30Z");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("2009-99-12T17:50:30Z"), std::string::npos)
      << parsed.error().message;
  auto long_input = ParseIso8601(std::string(10000, '7') + "\x01\xff");
  ASSERT_FALSE(long_input.ok());
  EXPECT_LT(long_input.error().message.size(), 200u);
}

TEST(ParseHttpDateTest, ThreeFormsOfRfc7231) {
  ExpectHttp("Sun, 06 Nov 1994 08:49:37 GMT", At(kRfcExample));
  ExpectHttp("Sunday, 06-Nov-94 08:49:37 GMT", At(kRfcExample));
  ExpectHttp("Sun Nov  6 08:49:37 1994", At(kRfcExample));
  ExpectHttp("Sun Nov 06 08:49:37 1994", At(kRfcExample));
}

TEST(ParseHttpDateTest, WhatMotoAndS3Send) {
  // moto 5.2.1's Last-Modified header, captured from a PUT on this machine.
  ExpectHttp("Sun, 22 Nov 2026 04:45:43 GMT", At(1795322743));
  ExpectHttp("Mon, 12 Oct 2009 17:50:30 GMT", At(kS3Example));
  ExpectHttp("Thu, 01 Jan 1970 00:00:00 GMT", At(0));
  ExpectHttp("Wed, 16 Nov 1994 08:49:37 GMT", At(kRfcExample + int64_t{10} * 86400));
  ExpectHttp("  Sun, 06 Nov 1994 08:49:37 GMT\r\n", At(kRfcExample));
}

TEST(ParseHttpDateTest, LenientAboutCaseAndUtc) {
  ExpectHttp("sun, 06 nov 1994 08:49:37 gmt", At(kRfcExample));
  ExpectHttp("SUN, 06 NOV 1994 08:49:37 GMT", At(kRfcExample));
  ExpectHttp("Sun, 06 Nov 1994 08:49:37 UTC", At(kRfcExample));
  ExpectHttp("Sun, 6 Nov 1994 08:49:37 GMT", At(kRfcExample));
}

TEST(ParseHttpDateTest, Rfc850TwoDigitYearPivot) {
  ExpectHttp("Thursday, 01-Jan-70 00:00:00 GMT", At(0));
  ExpectHttp("Saturday, 01-Jan-00 00:00:00 GMT", At(946684800));
  ExpectHttp("Friday, 31-Dec-99 23:59:59 GMT", At(946684799));
  ExpectHttp("Tuesday, 29-Feb-24 12:00:00 GMT", At(1709208000));
}

TEST(ParseHttpDateTest, RejectsMalformed) {
  for (const char* text : {"",
                           "Sun",
                           "Sun,",
                           "Sun, 06 Nov 1994",
                           "Sun, 06 Nov 1994 08:49:37",
                           "Sun, 06 Nov 1994 08:49:37 PST",
                           "Sun, 06 Nov 1994 08:49:37 +0000",
                           "Sun, 06 Nov 1994 08:49:37 GMT junk",
                           "Sup, 06 Nov 1994 08:49:37 GMT",
                           "Sun, 06 Nev 1994 08:49:37 GMT",
                           "Sun, 30 Feb 1994 08:49:37 GMT",
                           "Sun, 06 Nov 94 08:49:37 GMT",
                           "Sun, 06 Nov 1994 8:49:37 GMT",
                           "Sun, 06 Nov 1994 25:49:37 GMT",
                           "Sun, 006 Nov 1994 08:49:37 GMT",
                           "Sun,06 Nov 1994 08:49:37 GMT",
                           "Sunday, 06-Nov-1994 08:49:37 GMT",
                           "Sun Nov  6 08:49:37 94",
                           "Sun Nov   6 08:49:37 1994",
                           "Sun Nov  6 08:49:37 1994 GMT",
                           "1994-11-06T08:49:37Z",
                           "Sun, 06 Nov 9999 08:49:37 GMT"}) {
    ExpectHttpError(text);
  }
}

TEST(ParseHttpDateTest, EveryPrefixFailsCleanly) {
  for (const std::string full : {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                                 "Sun Nov  6 08:49:37 1994"}) {
    for (size_t n = 0; n < full.size(); ++n) {
      EXPECT_FALSE(ParseHttpDate(full.substr(0, n)).ok()) << "prefix '" << full.substr(0, n) << "'";
    }
  }
}

TEST(FormatTest, HttpDate) {
  EXPECT_EQ(FormatHttpDate(At(kRfcExample)), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(At(kRfcExample) + milliseconds(999)), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(At(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(At(-1)), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(FormatHttpDate(At(1709208000)), "Thu, 29 Feb 2024 12:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(At(951868800)), "Wed, 01 Mar 2000 00:00:00 GMT");
  EXPECT_EQ(FormatHttpDate(At(1795322743)), "Sun, 22 Nov 2026 04:45:43 GMT");
}

TEST(FormatTest, Iso8601) {
  EXPECT_EQ(FormatIso8601(At(kS3Example)), "2009-10-12T17:50:30.000Z");
  EXPECT_EQ(FormatIso8601(At(kS3Example) + microseconds(123999)), "2009-10-12T17:50:30.123Z");
  EXPECT_EQ(FormatIso8601(At(0) - milliseconds(500)), "1969-12-31T23:59:59.500Z");
  EXPECT_EQ(FormatIso8601(At(0) - nanoseconds(1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601(At(1709208000) + milliseconds(7)), "2024-02-29T12:00:00.007Z");
}

TEST(FormatTest, ExtremesOfWallTime) {
  EXPECT_EQ(FormatIso8601(WallTime::min()), "1677-09-21T00:12:43.145Z");
  EXPECT_EQ(FormatIso8601(WallTime::max()), "2262-04-11T23:47:16.854Z");
  EXPECT_EQ(FormatHttpDate(WallTime::min()), "Tue, 21 Sep 1677 00:12:43 GMT");
  EXPECT_EQ(FormatHttpDate(WallTime::max()), "Fri, 11 Apr 2262 23:47:16 GMT");
}

TEST(FormatTest, RoundTripsAcrossTheCalendar) {
  // Every 37 days and a bit from 1900 to 2200: leap years, century rules, month ends.
  // (Offsets are summed in int64 seconds: hours or days converted to nanoseconds before the
  // addition would overflow over such a span.)
  constexpr int64_t kStart = -2208988800;  // 1900-01-01
  constexpr int64_t kStep = 37 * 86400 + 7919;
  for (int64_t i = 0; i < 3000; ++i) {
    const WallTime t = At(kStart + i * kStep) + milliseconds(i % 1000);
    const std::string iso = FormatIso8601(t);
    auto iso_back = ParseIso8601(iso);
    ASSERT_TRUE(iso_back.ok()) << iso;
    EXPECT_EQ(*iso_back, t) << iso;
    const std::string http = FormatHttpDate(t);
    auto http_back = ParseHttpDate(http);
    ASSERT_TRUE(http_back.ok()) << http;
    EXPECT_EQ(*http_back, std::chrono::floor<seconds>(t)) << http;
  }
}

// Sets TZ for the scope of a test, restoring it afterwards.
class ScopedTimeZone {
 public:
  explicit ScopedTimeZone(const char* zone) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", zone, 1);
    tzset();
  }
  ~ScopedTimeZone() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  ScopedTimeZone(const ScopedTimeZone&) = delete;
  ScopedTimeZone& operator=(const ScopedTimeZone&) = delete;

 private:
  std::optional<std::string> old_;
};

TEST(FormatTest, IndependentOfTimeZone) {
  ScopedTimeZone zone("NZST-12NZDT,M9.5.0,M4.1.0/3");
  ExpectIso("2009-10-12T17:50:30.000Z", At(kS3Example));
  ExpectHttp("Sun, 06 Nov 1994 08:49:37 GMT", At(kRfcExample));
  EXPECT_EQ(FormatHttpDate(At(kRfcExample)), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatIso8601(At(kS3Example)), "2009-10-12T17:50:30.000Z");
}

}  // namespace
}  // namespace s3mount
