// Logging set-up and secret redaction.
#include "s3mount/common/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

// Masks what follows each (case-insensitive) marker up to the next delimiter.
void MaskAfter(std::string& text, std::string_view marker, std::string_view delimiters) {
  const std::string lower_marker = AsciiLower(marker);
  size_t from = 0;
  while (true) {
    const std::string lower = AsciiLower(text);
    const size_t at = lower.find(lower_marker, from);
    if (at == std::string::npos) return;
    const size_t start = at + marker.size();
    size_t end = text.find_first_of(delimiters, start);
    if (end == std::string::npos) end = text.size();
    text.replace(start, end - start, "***");
    from = start + 3;
  }
}

}  // namespace

Status ConfigureLogging(const LoggingOptions& options) {
  const auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "unknown log level '" + options.level +
                         "' (expected trace, debug, info, warn, error, critical or off)");
  }
  spdlog::drop("s3mount");  // a second call replaces the first logger
  std::shared_ptr<spdlog::logger> logger;
  if (!options.file.empty()) {
    try {
      logger = spdlog::basic_logger_mt("s3mount", options.file);
    } catch (const spdlog::spdlog_ex& e) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "cannot open log file '" + options.file + "': " + e.what());
    }
  } else if (options.to_syslog) {
    logger = spdlog::syslog_logger_mt("s3mount", "s3mount", LOG_PID, LOG_DAEMON);
  } else {
    logger = spdlog::stderr_color_mt("s3mount");
  }
  logger->set_level(level);
  // Every line reaches its sink when logged, so `tail -f` on a log_file= follows the mount
  // (spdlog's file sink otherwise holds lines in a stdio buffer until a warning or exit).
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return OkStatus();
}

std::string RedactSecrets(std::string_view text) {
  std::string out(text);
  static constexpr std::array<std::string_view, 5> kQueryMarkers = {
      "X-Amz-Signature=", "X-Amz-Security-Token=", "Signature=", "x-amz-security-token: ",
      "x-amz-security-token:"};
  for (std::string_view marker : kQueryMarkers) MaskAfter(out, marker, "&,; \r\n\"");
  MaskAfter(out, "aws_secret_access_key=", "\r\n");
  // Mount options: -o secret_access_key=...,session_token=...
  MaskAfter(out, "secret_access_key=", ",&; \r\n\"'");
  MaskAfter(out, "session_token=", ",&; \r\n\"'");
  MaskAfter(out, "SecretAccessKey\":\"", "\"");
  // redis://[user]:PASSWORD@host
  for (size_t at = out.find("redis://"); at != std::string::npos; at = out.find("redis://", at)) {
    at += 8;
    const size_t end = out.find_first_of("@/, \r\n\"'", at);
    if (end == std::string::npos || out[end] != '@') continue;
    const size_t colon = out.find(':', at);
    if (colon == std::string::npos || colon > end) continue;
    out.replace(colon + 1, end - colon - 1, "***");
  }
  return out;
}

std::string ScrubSecrets(std::string text, std::span<const std::string_view> secrets,
                         size_t max_bytes) {
  for (std::string_view secret : secrets) {
    if (secret.size() < 4) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  text = RedactSecrets(text);
  if (text.size() > max_bytes) {
    text.resize(max_bytes);
    text += "...";
  }
  return text;
}

}  // namespace s3mount
