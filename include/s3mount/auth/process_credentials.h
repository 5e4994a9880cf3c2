// ProcessCredentialsProvider: credentials from an external program, the AWS `credential_process`
// setting. The command runs through `/bin/sh -c` with stdin from /dev/null, inheriting the
// environment, in its own process group; its stdout must be the JSON document
//   {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...",
//    "SessionToken": "..." (optional), "Expiration": "<ISO-8601>" (optional)}
// A command that runs longer than the timeout is killed (the whole group).
//
// Every GetCredentials runs the command: keeping the credentials and running it again before
// they expire is RefreshingCredentialsProvider's job (see credential_chain.h).
//
// Errors (kCredentials) name the command, its exit status or signal and the first line of its
// stderr, never what it printed on stdout.
//
// Thread-safety: GetCredentials may be called from any thread; calls are serialised, so the
// command runs once at a time.
// LOCK ORDERING: mu_ is a leaf, held while the command runs (no other lock is taken).
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "s3mount/aws/credentials.h"
#include "s3mount/common/clock.h"
#include "s3mount/common/result.h"

namespace s3mount {

// What running a credential_process produced, before its output is parsed.
struct ProcessOutput {
  int exit_code = -1;   // -1 when killed by a signal
  int term_signal = 0;  // the signal that ended it, 0 when it exited
  std::string stdout_text;
  std::string stderr_text;
};

// Runs `command` through /bin/sh -c as described above. At most `max_output` bytes of each
// stream are kept (more is an error). Errors: failure to start (kCredentials) and the timeout
// (kTimeout); both name the command.
Result<ProcessOutput> RunCredentialProcess(const std::string& command, Clock& clock,
                                           std::chrono::milliseconds timeout,
                                           size_t max_output = size_t{1} << 20);

// Parses a credential_process's stdout; `command` is for messages.
Result<Credentials> ParseProcessCredentials(std::string_view json, std::string_view command);

class ProcessCredentialsProvider final : public CredentialsProvider {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{60'000};

  // `clock` must outlive the provider.
  ProcessCredentialsProvider(std::string command, Clock& clock,
                             std::chrono::milliseconds timeout = kDefaultTimeout)
      : command_(std::move(command)), clock_(clock), timeout_(timeout) {}

  Result<Credentials> GetCredentials() override;

 private:
  Result<Credentials> RunAndParse();

  const std::string command_;
  Clock& clock_;
  const std::chrono::milliseconds timeout_;
  std::mutex mu_;  // serialises runs of the command
};

}  // namespace s3mount
