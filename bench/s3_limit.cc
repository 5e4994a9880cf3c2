// s3_limit: runs one workload with s3mount's own S3 client (CurlObjectStore, path-style,
// credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) and prints one JSON line:
//   {"workload":..,"seconds":..,"bytes":..,"ops":..,"requests":..,"errors":0, ...}
// where seconds and requests cover only the workload's own S3 requests (not setup, not the
// checks that follow). Any failure, including a result that does not check out, exits
// non-zero with a message on stderr (2: bad usage, 1: a request or a check failed).
//
//   s3_limit WORKLOAD --endpoint URL --bucket B [--region R] [--payload-signing MODE] ...
//     seq_read    --key K [--part-mib 8] [--parallel 16]
//     seq_write   --key K --mib N [--part-mib 8] [--parallel 8]
//     list        --prefix P/ [--expect N]
//     list_head   --prefix P/ [--parallel 32] [--expect N]
//     get_each    --prefix P/ [--expect N]
//     put_each    --prefix P/ --count N --size BYTES
//     delete_each --prefix P/ [--expect N]
//     random_read --key K --block BYTES --seconds T [--jobs 1] [--seed S]
// --expect N fails the run unless LIST finds N keys. Bodies go with UNSIGNED-PAYLOAD unless
// --payload-signing auto|always says otherwise (hashing is CPU, not requests).
#include "s3_limit.h"

#include <getopt.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "s3mount/auth/environment_credentials.h"
#include "s3mount/s3/curl_object_store.h"

namespace s3mount {
namespace {

constexpr const char* kUsage =
    "usage: s3_limit WORKLOAD --endpoint URL --bucket B [--region R]\n"
    "                [--payload-signing unsigned|auto|always] OPTIONS\n"
    "  (list, list_head, get_each and delete_each take --expect N: fail unless N keys)\n"
    "  seq_read    --key K [--part-mib 8] [--parallel 16]\n"
    "  seq_write   --key K --mib N [--part-mib 8] [--parallel 8]\n"
    "  list        --prefix P/\n"
    "  list_head   --prefix P/ [--parallel 32]\n"
    "  get_each    --prefix P/\n"
    "  put_each    --prefix P/ --count N --size BYTES\n"
    "  delete_each --prefix P/\n"
    "  random_read --key K --block BYTES --seconds T [--jobs 1] [--seed S]\n";

struct CommandLine {
  LimitOptions limit;
  S3ClientOptions client;
};

Result<uint64_t> ParseCount(const char* name, const char* text) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (*text == '\0' || *text == '-' || *end != '\0') {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("--") + name + " wants a whole number, not '" + text + "'");
  }
  return static_cast<uint64_t>(value);
}

Result<double> ParseSeconds(const char* text) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (*text == '\0' || *end != '\0' || !(value > 0)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("--seconds wants a positive number, not '") + text + "'");
  }
  return value;
}

Result<PayloadSigning> ParseSigning(const std::string& text) {
  if (text == "unsigned") return PayloadSigning::kUnsigned;
  if (text == "auto") return PayloadSigning::kAuto;
  if (text == "always") return PayloadSigning::kAlways;
  return MakeError(ErrorCode::kInvalidArgument, "--payload-signing: unsigned, auto or always");
}

// Stores a whole-number option's value in `field` (an int or uint64_t).
template <typename Field>
Status SetCount(const char* name, const char* text, Field& field) {
  auto value = ParseCount(name, text);
  if (!value.ok()) return std::move(value).error();
  field = static_cast<Field>(*value);
  return OkStatus();
}

// Applies one option (getopt's `opt` with its `text`) to the command line.
Status ApplyOption(int opt, const char* text, CommandLine& line) {
  LimitOptions& limit = line.limit;
  switch (opt) {
    case 'e':
      line.client.endpoint.endpoint_url = text;
      return OkStatus();
    case 'b':
      line.client.bucket = text;
      return OkStatus();
    case 'r':
      line.client.endpoint.region = text;
      return OkStatus();
    case 'k':
      limit.key = text;
      return OkStatus();
    case 'p':
      limit.prefix = text;
      return OkStatus();
    case 'P':
      return SetCount("part-mib", text, limit.part_mib);
    case 'j':
      return SetCount("parallel", text, limit.parallel);
    case 'm':
      return SetCount("mib", text, limit.mib);
    case 'c':
      return SetCount("count", text, limit.count);
    case 's':
      return SetCount("size", text, limit.size);
    case 'B':
      return SetCount("block", text, limit.block);
    case 'J':
      return SetCount("jobs", text, limit.jobs);
    case 'S':
      return SetCount("seed", text, limit.seed);
    case 'x':
      return SetCount("expect", text, limit.expect.emplace());
    case 'T': {
      auto seconds = ParseSeconds(text);
      if (!seconds.ok()) return std::move(seconds).error();
      limit.seconds = *seconds;
      return OkStatus();
    }
    case 'g': {
      auto signing = ParseSigning(text);
      if (!signing.ok()) return std::move(signing).error();
      line.client.payload_signing = *signing;
      return OkStatus();
    }
    default:
      return MakeError(ErrorCode::kInvalidArgument, "unknown option");
  }
}

Result<CommandLine> ParseCommandLine(int argc, char** argv) {
  static const option kOptions[] = {{"endpoint", required_argument, nullptr, 'e'},
                                    {"bucket", required_argument, nullptr, 'b'},
                                    {"region", required_argument, nullptr, 'r'},
                                    {"key", required_argument, nullptr, 'k'},
                                    {"prefix", required_argument, nullptr, 'p'},
                                    {"part-mib", required_argument, nullptr, 'P'},
                                    {"parallel", required_argument, nullptr, 'j'},
                                    {"mib", required_argument, nullptr, 'm'},
                                    {"count", required_argument, nullptr, 'c'},
                                    {"size", required_argument, nullptr, 's'},
                                    {"block", required_argument, nullptr, 'B'},
                                    {"seconds", required_argument, nullptr, 'T'},
                                    {"jobs", required_argument, nullptr, 'J'},
                                    {"seed", required_argument, nullptr, 'S'},
                                    {"payload-signing", required_argument, nullptr, 'g'},
                                    {"expect", required_argument, nullptr, 'x'},
                                    {nullptr, 0, nullptr, 0}};
  CommandLine line;
  line.client.endpoint.force_path_style = true;
  // A benchmark of the client, not of SHA-256: bodies go unsigned unless asked otherwise.
  line.client.payload_signing = PayloadSigning::kUnsigned;
  int opt = 0;
  while ((opt = getopt_long(argc, argv, "", kOptions, nullptr)) != -1) {
    if (opt == '?') return MakeError(ErrorCode::kInvalidArgument, "bad option");
    S3M_RETURN_IF_ERROR(ApplyOption(opt, optarg, line));
  }
  if (optind + 1 != argc) return MakeError(ErrorCode::kInvalidArgument, "name one workload");
  line.limit.workload = argv[optind];
  if (line.client.bucket.empty() || line.client.endpoint.endpoint_url.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "--endpoint and --bucket are required");
  }
  if (line.limit.parallel < 0 || line.limit.jobs < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "--parallel and --jobs must be at least 1");
  }
  return line;
}

void PrintOutcome(const std::string& workload, const Outcome& outcome, long connections) {
  nlohmann::ordered_json line = {{"workload", workload},         {"seconds", outcome.seconds},
                                 {"bytes", outcome.bytes},       {"ops", outcome.ops},
                                 {"requests", outcome.requests}, {"errors", 0}};
  for (const auto& [name, value] : outcome.extras) {
    const bool whole = value == std::floor(value) && std::fabs(value) < 1e15;
    line[name] =
        whole ? nlohmann::ordered_json(static_cast<int64_t>(value)) : nlohmann::ordered_json(value);
  }
  line["connections"] = connections;
  std::cout << line.dump() << std::endl;
}

int Main(int argc, char** argv) {
  auto line = ParseCommandLine(argc, argv);
  if (!line.ok()) {
    std::cerr << "s3_limit: " << line.error().message << "\n" << kUsage;
    return 2;
  }
  SystemClock clock;
  EnvironmentCredentialsProvider credentials;
  auto store = CurlObjectStore::Create(line->client, credentials, clock);
  if (!store.ok()) {
    std::cerr << "s3_limit: " << store.error().ToString() << "\n";
    return 2;
  }
  LimitClient client(**store);
  auto outcome = RunWorkload(line->limit, client);
  if (!outcome.ok()) {
    std::cerr << "s3_limit " << line->limit.workload << ": " << outcome.error().ToString() << "\n";
    return outcome.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }
  PrintOutcome(line->limit.workload, *outcome, (*store)->connections_opened());
  return 0;
}

}  // namespace
}  // namespace s3mount

int main(int argc, char** argv) { return s3mount::Main(argc, argv); }
