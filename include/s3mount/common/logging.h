// Logging set-up (spdlog) and the redaction every log line that could carry a request goes
// through: signatures, session tokens and secret keys never reach a log at any level.
//
// Thread-safety: ConfigureLogging once at start-up; RedactSecrets and ScrubSecrets are pure
// functions.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "s3mount/common/result.h"

namespace s3mount {

struct LoggingOptions {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  bool to_syslog = false;      // stderr otherwise (unless `file` is set)
  std::string file;            // append to this file instead
};

// Sets the default spdlog logger. Fails with kInvalidArgument on an unknown level.
Status ConfigureLogging(const LoggingOptions& options);

// Replaces the values of credentials-bearing fields in a URL, header or message with "***":
// X-Amz-Signature, X-Amz-Security-Token, X-Amz-Credential's secret-free part is kept,
// `Signature=` in an Authorization header, and x-amz-security-token / Authorization headers,
// and the `secret_access_key=` / `session_token=` mount options.
std::string RedactSecrets(std::string_view text);

// The one scrubber for a message that may quote a server's reply or a request (error messages
// of the STS and SQS clients): replaces every occurrence of each of `secrets` (the caller's
// known secret values; ones under 4 bytes are skipped, too short to be a credential and
// likely to mangle text) with "***", then applies RedactSecrets, then caps the text at
// `max_bytes` (adding "...").
std::string ScrubSecrets(std::string text, std::span<const std::string_view> secrets,
                         size_t max_bytes);

}  // namespace s3mount
