// s3ctl: a small command-line S3 client over s3mount's core, used by the demo, by scripts
// and by the benchmarks. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN (none: anonymous requests).
//
//   s3ctl [options] BUCKET ls [PREFIX] [-r]     list (one level, or recursively)
//   s3ctl [options] BUCKET put KEY FILE|-       upload (multipart above 64 MiB)
//   s3ctl [options] BUCKET get KEY [FILE|-]     download
//   s3ctl [options] BUCKET head KEY | rm KEY... | cp SRC DST | region
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "s3mount/auth/environment_credentials.h"
#include "s3mount/common/logging.h"
#include "s3mount/common/time_format.h"
#include "s3mount/s3/curl_object_store.h"
#include "s3mount/s3/object_sinks.h"
#include "s3mount/s3/retrying_object_store.h"

namespace s3mount {
namespace {

constexpr size_t kPartSize = size_t{16} << 20;
constexpr size_t kMultipartThreshold = size_t{64} << 20;

const char kUsage[] =
    "usage: s3ctl [--endpoint URL] [--region REGION] [--path-style] [--ca-bundle FILE]\n"
    "             [--no-verify-tls] [--log-level LEVEL] BUCKET COMMAND [ARGS]\n"
    "commands: ls [PREFIX] [-r] | put KEY FILE|- | get KEY [FILE|-] | head KEY |\n"
    "          rm KEY... | cp SRC DST | region\n";

int Fail(const std::string& what, const Error& error) {
  std::cerr << "s3ctl: " << what << ": " << error.ToString() << "\n";
  return 1;
}

// Anonymous requests (public buckets) when the environment holds no keys at all.
Result<Credentials> CredentialsFromEnvironment() {
  if (std::getenv("AWS_ACCESS_KEY_ID") == nullptr &&
      std::getenv("AWS_SECRET_ACCESS_KEY") == nullptr) {
    return Credentials{};
  }
  EnvironmentCredentialsProvider environment;
  return environment.GetCredentials();
}

Result<std::string> ReadInput(const std::string& path) {
  std::ostringstream data;
  if (path == "-") {
    data << std::cin.rdbuf();
    return data.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kInvalidArgument, "cannot open '" + path + "'");
  data << in.rdbuf();
  return data.str();
}

int List(ObjectStore& store, const std::vector<std::string>& args) {
  ListObjectsRequest request;
  bool recursive = false;
  for (const auto& arg : args) {
    if (arg == "-r") {
      recursive = true;
    } else {
      request.prefix = arg;
    }
  }
  if (!recursive) request.delimiter = "/";
  do {
    auto page = store.ListObjects(request);
    if (!page.ok()) return Fail("ls", page.error());
    for (const auto& prefix : page->common_prefixes) std::cout << "PRE  " << prefix << "\n";
    for (const auto& object : page->objects) {
      std::cout << FormatIso8601(object.last_modified) << " " << object.size << " " << object.key
                << "\n";
    }
    request.continuation_token = page->is_truncated ? page->next_continuation_token : "";
  } while (!request.continuation_token.empty());
  return 0;
}

int PutMultipart(ObjectStore& store, const std::string& key, std::string_view data) {
  auto upload = store.CreateMultipartUpload({.key = key});
  if (!upload.ok()) return Fail("put", upload.error());
  CompleteMultipartUploadRequest complete{.key = key, .upload_id = *upload};
  for (size_t offset = 0, part = 1; offset < data.size(); offset += kPartSize, ++part) {
    auto etag = store.UploadPart({.key = key,
                                  .upload_id = *upload,
                                  .part_number = static_cast<int>(part),
                                  .body = data.substr(offset, kPartSize)});
    if (!etag.ok()) {
      (void)store.AbortMultipartUpload(key, *upload);
      return Fail("put", etag.error());
    }
    complete.parts.push_back({.part_number = static_cast<int>(part), .etag = *etag});
  }
  auto done = store.CompleteMultipartUpload(complete);
  if (!done.ok()) {
    (void)store.AbortMultipartUpload(key, *upload);
    return Fail("put", done.error());
  }
  std::cout << done->etag << "\n";
  return 0;
}

int Put(ObjectStore& store, const std::vector<std::string>& args) {
  if (args.size() != 2) return std::cerr << kUsage, 2;
  auto data = ReadInput(args[1]);
  if (!data.ok()) return Fail("put", data.error());
  if (data->size() > kMultipartThreshold) return PutMultipart(store, args[0], *data);
  auto put = store.PutObject({.key = args[0], .body = *data});
  if (!put.ok()) return Fail("put", put.error());
  std::cout << put->etag << "\n";
  return 0;
}

int Get(ObjectStore& store, const std::vector<std::string>& args) {
  if (args.empty() || args.size() > 2) return std::cerr << kUsage, 2;
  StringSink sink;
  auto got = store.GetObject({.key = args[0]}, sink);
  if (!got.ok()) return Fail("get", got.error());
  if (args.size() == 1 || args[1] == "-") {
    std::cout.write(sink.data().data(), static_cast<std::streamsize>(sink.data().size()));
    return 0;
  }
  std::ofstream out(args[1], std::ios::binary);
  out.write(sink.data().data(), static_cast<std::streamsize>(sink.data().size()));
  if (!out) return Fail("get", MakeError(ErrorCode::kInvalidArgument, "cannot write " + args[1]));
  return 0;
}

int Head(ObjectStore& store, const std::vector<std::string>& args) {
  if (args.size() != 1) return std::cerr << kUsage, 2;
  auto info = store.HeadObject({.key = args[0]});
  if (!info.ok()) return Fail("head", info.error());
  std::cout << "size " << info->size << "\netag " << info->etag << "\nlast-modified "
            << FormatIso8601(info->last_modified) << "\ncontent-type " << info->content_type
            << "\n";
  for (const auto& [name, value] : info->user_metadata) {
    std::cout << "x-amz-meta-" << name << " " << value << "\n";
  }
  return 0;
}

int Run(ObjectStore& store, CurlObjectStore& client, const std::string& command,
        const std::vector<std::string>& args) {
  if (command == "ls") return List(store, args);
  if (command == "put") return Put(store, args);
  if (command == "get") return Get(store, args);
  if (command == "head") return Head(store, args);
  if (command == "rm") {
    auto deleted = store.DeleteObjects(args);
    if (!deleted.ok()) return Fail("rm", deleted.error());
    for (const auto& failure : deleted->failures) {
      std::cerr << "s3ctl: rm " << failure.key << ": " << failure.error.ToString() << "\n";
    }
    return deleted->failures.empty() ? 0 : 1;
  }
  if (command == "cp" && args.size() == 2) {
    auto copied = store.CopyObject({.source_key = args[0], .destination_key = args[1]});
    return copied.ok() ? 0 : Fail("cp", copied.error());
  }
  if (command == "region") {
    auto bucket = store.HeadBucket();
    if (!bucket.ok()) return Fail("region", bucket.error());
    std::cout << (bucket->region.empty() ? client.region() : bucket->region) << "\n";
    return 0;
  }
  std::cerr << kUsage;
  return 2;
}

int Main(int argc, char** argv) {
  S3ClientOptions options;
  LoggingOptions logging{.level = "warn"};
  static const option kOptions[] = {
      {"endpoint", required_argument, nullptr, 'e'}, {"region", required_argument, nullptr, 'R'},
      {"path-style", no_argument, nullptr, 'p'},     {"ca-bundle", required_argument, nullptr, 'c'},
      {"no-verify-tls", no_argument, nullptr, 'k'},  {"log-level", required_argument, nullptr, 'l'},
      {"help", no_argument, nullptr, 'h'},           {nullptr, 0, nullptr, 0}};
  if (const char* region = std::getenv("AWS_REGION")) options.endpoint.region = region;
  int opt = 0;
  while ((opt = getopt_long(argc, argv, "+h", kOptions, nullptr)) != -1) {
    switch (opt) {
      case 'e':
        options.endpoint.endpoint_url = optarg;
        break;
      case 'R':
        options.endpoint.region = optarg;
        break;
      case 'p':
        options.endpoint.force_path_style = true;
        break;
      case 'c':
        options.http.ca_bundle = optarg;
        break;
      case 'k':
        options.http.verify_tls = false;
        break;
      case 'l':
        logging.level = optarg;
        break;
      case 'h':
        std::cout << kUsage;
        return 0;
      default:
        std::cerr << kUsage;
        return 2;
    }
  }
  if (argc - optind < 2) return std::cerr << kUsage, 2;
  if (Status status = ConfigureLogging(logging); !status.ok()) {
    return Fail("--log-level", status.error());
  }
  options.bucket = argv[optind];
  const std::string command = argv[optind + 1];
  std::vector<std::string> args(argv + optind + 2, argv + argc);

  SystemClock clock;
  auto from_environment = CredentialsFromEnvironment();
  if (!from_environment.ok()) return Fail("credentials", from_environment.error());
  StaticCredentialsProvider credentials(*from_environment);
  auto client = CurlObjectStore::Create(options, credentials, clock);
  if (!client.ok()) return Fail("configuration", client.error());
  RetryPolicy policy(RetryOptions{});
  RetryingObjectStore store(**client, policy, clock);
  return Run(store, **client, command, args);
}

}  // namespace
}  // namespace s3mount

int main(int argc, char** argv) { return s3mount::Main(argc, argv); }
