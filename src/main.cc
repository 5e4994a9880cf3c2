// s3mount: the composition root. It reads the command line into a MountConfig, picks the real
// implementations (credentials, the curl S3 client with retries, the caches, the filesystem,
// the FUSE adapter), checks the bucket with one request, mounts, goes into the background
// once the mount is ready, and serves until unmounted.
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "app/journal_command.h"
#include "app/mount_config.h"
#include "app/mount_options.h"
#include "fuse/fuse_session.h"
#include "fuse/mountpoint.h"
#include "s3mount/auth/credential_chain.h"
#include "s3mount/auth/passwd_file_credentials.h"
#include "s3mount/auth/profile_config.h"
#include "s3mount/auth/profile_credentials.h"
#include "s3mount/cache/block_cache.h"
#include "s3mount/cache/metadata_cache.h"
#include "s3mount/common/logging.h"
#include "s3mount/events/change_listener.h"
#include "s3mount/events/redis_feed.h"
#include "s3mount/events/sqs_feed.h"
#include "s3mount/fs/bucket_check.h"
#include "s3mount/fs/content_type.h"
#include "s3mount/fs/filesystem.h"
#include "s3mount/s3/curl_object_store.h"
#include "s3mount/s3/endpoint.h"
#include "s3mount/s3/retrying_object_store.h"

namespace s3mount {
namespace {

// Attempts of the one listing that checks bucket and credentials before mounting.
constexpr int kStartupCheckAttempts = 2;

int Fail(const std::string& message) {
  std::cerr << "s3mount: " << message << "\n";
  return 1;
}

// The HTTP clients the credential providers talk through (STS, SSO, container endpoints;
// the instance metadata service with its short timeouts). They outlive the chain.
struct CredentialHttp {
  explicit CredentialHttp(const MountConfig& config, const ImdsOptions& imds)
      : general(config.s3.http), metadata(ImdsHttpClientOptions(imds)) {}
  HttpClient general;
  HttpClient metadata;
};

// The source a mount option names (keys, passwd_file=, anonymous), if any.
std::shared_ptr<CredentialsProvider> ExplicitSource(const MountConfig& config) {
  const CredentialsConfig& credentials = config.credentials;
  switch (credentials.source) {
    case CredentialsSource::kPasswdFile:
      return std::make_shared<PasswdFileCredentialsProvider>(credentials.passwd_file,
                                                             config.bucket);
    case CredentialsSource::kAnonymous:
      return std::make_shared<StaticCredentialsProvider>(Credentials{});
    case CredentialsSource::kOptions:
      return std::make_shared<StaticCredentialsProvider>(
          Credentials{credentials.access_key_id, credentials.secret_access_key,
                      credentials.session_token, std::nullopt});
    case CredentialsSource::kDefault:
    case CredentialsSource::kProfile:
      return nullptr;
  }
  return nullptr;
}

// STS goes to sts_endpoint=, else AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, else the custom S3
// endpoint (MinIO, Ceph and moto serve STS there), else AWS's regional endpoint.
StsOptions StsOptionsFor(const MountConfig& config, const ChainEnvironment& environment) {
  StsOptions sts{.region = config.s3.endpoint.region, .endpoint_override = {}};
  for (const std::string* endpoint : {&config.credentials.sts_endpoint, &environment.sts_endpoint,
                                      &config.s3.endpoint.endpoint_url}) {
    if (!endpoint->empty()) {
      sts.endpoint_override = *endpoint;
      break;
    }
  }
  return sts;
}

Result<std::unique_ptr<CredentialChain>> MakeCredentials(const MountConfig& config,
                                                         ChainEnvironment environment,
                                                         CredentialHttp& http, Clock& clock) {
  ChainRequest request;
  request.explicit_source = ExplicitSource(config);
  if (config.credentials.source == CredentialsSource::kProfile) {
    request.profile = config.credentials.profile;
    if (!config.credentials.credentials_file.empty()) {
      environment.files.credentials_file = config.credentials.credentials_file;
    }
  }
  request.assume_role =
      AssumeRoleSettings{config.credentials.role_arn, config.credentials.role_session_name,
                         config.credentials.external_id, std::nullopt};
  ChainContext context{.clock = &clock,
                       .fetch = FetchWith(http.general),
                       .imds_fetch = FetchWith(http.metadata),
                       .sts = StsOptionsFor(config, environment),
                       .refresh = {}};
  return CredentialChain::Build(request, environment, std::move(context));
}

std::string DescribeEndpoint(const MountConfig& config) {
  return config.s3.endpoint.endpoint_url.empty() ? "AWS S3 (" + config.s3.endpoint.region + ")"
                                                 : config.s3.endpoint.endpoint_url;
}

// Staging files of this mount: a private directory per mount process under the cache
// directory, so two mounts never share one.
std::string StagingDirectoryFor(const MountConfig& config) {
  return CacheDirectory(config.cache_dir) + "/staging-" + std::to_string(::getpid());
}

FilesystemOptions FilesystemOptionsFor(const MountConfig& config) {
  FilesystemOptions options;
  options.prefix = config.prefix;
  options.defaults = config.attributes;
  options.include_patterns = config.include;
  options.exclude_patterns = config.exclude;
  options.stat_ttl = config.stat_ttl;
  options.negative_ttl = config.negative_ttl;
  options.list_ttl = config.list_ttl;
  options.max_readahead = std::max<uint64_t>(config.readahead_bytes, options.block_size);
  options.directory_readahead_files = config.dir_readahead_files;
  options.object_metadata = config.object_metadata;
  options.read_only = config.read_only;
  options.staging_directory = StagingDirectoryFor(config);
  options.staging_capacity = config.cache_limit;
  options.write_memory = config.write_buffer;
  options.write_back = config.writeback;
  options.journal_cache_dir = CacheDirectory(config.cache_dir);
  options.journal_target = JournalTarget{.endpoint = config.s3.endpoint.endpoint_url,
                                         .bucket = config.bucket,
                                         .prefix = config.prefix};
  options.content_types = ContentTypes::Load("/etc/mime.types");
  return options;
}

// The profile's region when neither region= nor AWS_REGION / AWS_DEFAULT_REGION gave one (S3's
// region redirects correct a wrong guess afterwards).
void UseProfileRegion(MountConfig& config) {
  if (config.region_set || config.credentials.source == CredentialsSource::kPasswdFile ||
      config.credentials.source == CredentialsSource::kAnonymous) {
    return;
  }
  auto files = DefaultAwsSharedFiles();
  if (!files.ok()) return;
  const std::string profile =
      config.credentials.profile.empty() ? DefaultProfileName() : config.credentials.profile;
  auto region = LoadProfileRegion(*files, profile);
  if (region.ok() && region->has_value()) {
    config.s3.endpoint.region = **region;
    config.region_set = true;
    spdlog::debug("region {} from profile '{}'", **region, profile);
  }
}

// Everything the mount runs on, built and checked before mounting (no thread started yet).
struct Backend {
  SystemClock clock;
  std::unique_ptr<CredentialHttp> credential_http;
  std::unique_ptr<CredentialChain> credentials;
  std::unique_ptr<CurlObjectStore> client;
  std::unique_ptr<RetryPolicy> policy;
  std::unique_ptr<RetryingObjectStore> store;
  std::unique_ptr<HttpClient> feed_http;
  std::unique_ptr<ChangeFeed> feed;  // null without change notifications
};

// The change feed the options name, connected and checked; null when none is configured.
Result<std::unique_ptr<ChangeFeed>> ConnectChangeFeed(const MountConfig& config, Backend& backend) {
  const EventsConfig& events = config.events;
  if (!events.redis_url.empty()) {
    auto feed = RedisChangeFeed::Connect(
        {.url = events.redis_url, .channel = events.redis_channel, .list = events.redis_list},
        backend.clock);
    if (!feed.ok()) return std::move(feed).error();
    return std::unique_ptr<ChangeFeed>(std::move(feed).value());
  }
  if (events.sqs_queue_url.empty()) return std::unique_ptr<ChangeFeed>();
  backend.feed_http = std::make_unique<HttpClient>(config.s3.http);
  SqsClientOptions options{.queue_url = events.sqs_queue_url, .region = events.sqs_region};
  // A queue URL naming no region (an emulator's) is signed for the bucket's region.
  if (options.region.empty() && SqsRegionFromQueueUrl(options.queue_url).empty()) {
    options.region = config.s3.endpoint.region;
  }
  auto feed = SqsChangeFeed::Connect(FetchWith(*backend.feed_http), *backend.credentials,
                                     backend.clock, std::move(options));
  if (!feed.ok()) return std::move(feed).error();
  return std::unique_ptr<ChangeFeed>(std::move(feed).value());
}

Result<std::unique_ptr<Backend>> ConnectBackend(MountConfig& config) {
  UseProfileRegion(config);
  auto environment = ChainEnvironment::FromProcess();
  if (!environment.ok()) return std::move(environment).error();
  auto backend = std::make_unique<Backend>();
  backend->credential_http = std::make_unique<CredentialHttp>(config, environment->imds);
  auto credentials =
      MakeCredentials(config, *environment, *backend->credential_http, backend->clock);
  if (!credentials.ok()) return std::move(credentials).error();
  backend->credentials = std::move(credentials).value();
  spdlog::info("credentials: {}", backend->credentials->description());
  auto client = CurlObjectStore::Create(config.s3, *backend->credentials, backend->clock);
  if (!client.ok()) return std::move(client).error();
  backend->client = std::move(client).value();
  backend->policy = std::make_unique<RetryPolicy>(RetryOptions{});
  backend->store =
      std::make_unique<RetryingObjectStore>(*backend->client, *backend->policy, backend->clock);
  // The startup check retries once only: a wrong endpoint or a host that is down must fail
  // the mount command within seconds, not after the full backoff schedule.
  RetryPolicy check_policy(RetryOptions{.max_attempts = kStartupCheckAttempts});
  RetryingObjectStore check_store(*backend->client, check_policy, backend->clock);
  auto endpoint = ResolveEndpoint(config.s3.endpoint, config.bucket);
  S3M_RETURN_IF_ERROR(endpoint);  // CurlObjectStore::Create resolved it already
  // The name DNS is asked for: the Host header without its port (never an IPv6 literal here).
  const std::string virtual_host =
      endpoint->path_style ? "" : endpoint->host.substr(0, endpoint->host.find(':'));
  S3M_RETURN_IF_ERROR(CheckBucket(check_store, config.bucket, config.prefix,
                                  DescribeEndpoint(config), virtual_host));
  auto feed = ConnectChangeFeed(config, *backend);
  if (!feed.ok()) return std::move(feed).error();
  backend->feed = std::move(feed).value();
  return backend;
}

int Serve(MountConfig config) {
  auto backend = ConnectBackend(config);
  if (!backend.ok()) return Fail(RedactSecrets(backend.error().message));
  if (Status prepared = PrepareMountpoint(config.mountpoint); !prepared.ok()) {
    return Fail(prepared.error().message);
  }
  FuseContext context;
  context.read_only = config.read_only;
  context.clock = &(*backend)->clock;
  FuseMountOptions mount_options{config.mountpoint, config.fuse_options, config.debug,
                                 config.single_threaded, config.max_threads};
  auto mount = FuseMount::Create(mount_options, context);
  if (!mount.ok()) return Fail(mount.error().message);
  if (Status mounted = (*mount)->Mount(); !mounted.ok()) return Fail(mounted.error().message);
  // Threads only after this point: fork() in Daemonize keeps just the calling thread.
  if (Status detached = (*mount)->Daemonize(config.foreground); !detached.ok()) {
    return Fail(detached.error().message);
  }
  Backend& b = **backend;
  b.credentials->EnableBackgroundRefresh();
  MetadataCache metadata(
      MetadataCacheOptions{.positive_ttl = config.stat_ttl, .negative_ttl = config.negative_ttl});
  BlockCache blocks(BlockCacheOptions{.capacity_bytes = config.cache_bytes});
  auto filesystem =
      Filesystem::Create(*b.store, b.clock, metadata, blocks, FilesystemOptionsFor(config));
  if (!filesystem.ok()) return Fail(filesystem.error().message);
  context.filesystem = filesystem->get();
  std::unique_ptr<ChangeListener> listener;
  if (b.feed != nullptr) {
    listener = std::make_unique<ChangeListener>(
        *b.feed, b.clock, ChangeListenerOptions{.bucket = config.bucket, .prefix = config.prefix},
        [fs = filesystem->get(), kernel = mount->get()](const ObjectChange& change) {
          kernel->Invalidate(fs->ApplyRemoteChange(change));
        },
        [fs = filesystem->get(), kernel = mount->get()] {
          kernel->Invalidate(fs->ForgetRemoteState());
        });
    listener->Start();
  }
  spdlog::info("s3mount: {}{} mounted on {}", config.bucket,
               config.prefix.empty() ? "" : ":/" + config.prefix, config.mountpoint);
  Status served = (*mount)->Run();
  listener.reset();  // stops applying changes before the session and the filesystem go
  mount->reset();    // unmount before the filesystem goes away
  const std::string staging = (*filesystem)->staging_directory();
  filesystem->reset();  // uploads what the last handles left, then stops its threads
  std::error_code ignored;
  std::filesystem::remove(staging, ignored);  // only if empty: kept files stay
  if (!served.ok()) return Fail(served.error().message);
  return 0;
}

// glibc serves a large allocation with mmap until one is freed, then raises its threshold to
// that size, so from then on 1 MiB cache blocks and 8 MiB parts come from its heaps, whose
// freed chunks stay resident: under 64 readers and 8 writers the daemon reached 232 MiB
// instead of 61 to 63 MiB (MountMemoryTest, cache_size=32M, write_buffer=16M). A fixed threshold
// keeps every large buffer in its own mapping, returned to the kernel when freed, so the
// budgets that count buffers bound the memory the process holds.
void KeepLargeBuffersMapped() { (void)mallopt(M_MMAP_THRESHOLD, 128 * 1024); }

int Main(int argc, char** argv) {
  if (IsJournalCommand(argc, argv)) {
    return RunJournalCommand(argc - 1, argv + 1, std::cout, std::cerr);
  }
  KeepLargeBuffersMapped();
  auto raw = ParseMountArguments(argc, argv);
  // Parsed: the secrets need not stay readable by every user through ps.
  const bool scrubbed = ScrubSecretArguments(argc, argv);
  if (!raw.ok()) return Fail(raw.error().message + "\n" + MountUsageHint());
  if (raw->help) {
    std::cout << MountHelpText("s3mount");
    return 0;
  }
  if (raw->version) {
    std::cout << MountVersionText();
    return 0;
  }
  auto config = ValidateMountConfig(std::move(raw).value());
  if (!config.ok()) return Fail(config.error().message + "\n" + MountUsageHint());
  LoggingOptions logging{.level = config->log_level,
                         .to_syslog = !config->foreground && config->log_file.empty(),
                         .file = config->log_file};
  if (Status status = ConfigureLogging(logging); !status.ok()) return Fail(status.error().message);
  if (scrubbed) {
    spdlog::warn(
        "secrets (secret_access_key=, session_token= or a redis_url= password) were given as "
        "mount options: any local user could read them in the process list until s3mount hid "
        "them; prefer passwd_file=, credentials in the environment or an AWS profile");
  }
  return Serve(*config);
}

}  // namespace
}  // namespace s3mount

int main(int argc, char** argv) { return s3mount::Main(argc, argv); }
