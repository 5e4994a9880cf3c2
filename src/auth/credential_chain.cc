// CredentialChain: assembles the providers of the AWS credential chain (see the header for the
// order) and remembers which sources were skipped and why, for the error message.
#include "s3mount/auth/credential_chain.h"

#include <cstdlib>
#include <utility>

#include "s3mount/auth/process_credentials.h"
#include "s3mount/auth/profile_config.h"
#include "s3mount/auth/sso_credentials.h"
#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
  return value == nullptr ? std::string() : std::string(value);
}

std::string FirstEnv(const char* first, const char* second) {
  std::string value = Env(first);
  return value.empty() ? Env(second) : value;
}

Error CredentialsError(std::string message) {
  return MakeError(ErrorCode::kCredentials, std::move(message));
}

// A provider and what it is, for the log.
struct Source {
  std::shared_ptr<CredentialsProvider> provider;
  std::string description;
};

// Static credentials from the captured environment.
Result<std::optional<Source>> EnvironmentSource(const ChainEnvironment& environment) {
  const bool has_id = !environment.access_key_id.empty();
  const bool has_secret = !environment.secret_access_key.empty();
  if (!has_id && !has_secret) return std::optional<Source>();
  if (!has_id || !has_secret) {
    return CredentialsError(has_id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                                   : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  }
  Credentials credentials{environment.access_key_id, environment.secret_access_key,
                          environment.session_token, std::nullopt};
  return std::optional<Source>(Source{
      std::make_shared<StaticCredentialsProvider>(std::move(credentials)), "the environment"});
}

bool UsesSso(const ProfileConfig& profile) {
  return !profile.sso_session.empty() || !profile.sso_start_url.empty();
}

}  // namespace

// Builds one chain; lives only during CredentialChain::Build.
class ChainAssembler {
 public:
  ChainAssembler(const ChainEnvironment& environment, ChainContext context, CredentialChain& chain)
      : environment_(environment), context_(std::move(context)), chain_(chain) {}

  // The default chain; nullopt with skipped_ filled when nothing is configured.
  Result<std::optional<Source>> DefaultChain();
  // Only `profile`'s sources; an error when it has none.
  Result<Source> ProfileOnly(const std::string& profile);
  // `base` then an AssumeRole of `settings`, refreshed.
  Source AssumeRole(Source base, const AssumeRoleSettings& settings);

  void Skip(const std::string& name, const std::string& reason) {
    chain_.skipped_ += (chain_.skipped_.empty() ? "" : "; ") + name + ": " + reason;
  }
  // `error` from source `name`, with what was skipped before it.
  Error Failed(const std::string& name, Error error) const {
    error.message = name + ": " + error.message;
    if (!chain_.skipped_.empty()) error.message += " (skipped before it: " + chain_.skipped_ + ")";
    return error;
  }

 private:
  Source Refreshing(std::unique_ptr<CredentialsProvider> inner, std::string description) {
    auto provider = std::make_shared<RefreshingCredentialsProvider>(
        std::move(inner), *context_.clock, context_.refresh);
    chain_.refreshing_.push_back(provider.get());
    return Source{std::move(provider), std::move(description)};
  }
  StsClient& Sts() {
    if (chain_.sts_clients_.empty()) {
      chain_.sts_clients_.push_back(
          std::make_unique<StsClient>(context_.fetch, *context_.clock, context_.sts));
    }
    return *chain_.sts_clients_.front();
  }

  // The sources of one profile (2-6 in the header's list); nullopt when it configures none.
  // RoleSources is 2, WebIdentitySources 3 (with the environment's settings winning in the
  // default chain), OwnSources 4-6.
  Result<std::optional<Source>> ProfileSources(const ProfileConfig& profile);
  Result<std::optional<Source>> RoleSources(const ProfileConfig& profile);
  Result<std::optional<Source>> WebIdentitySources(const ProfileConfig& profile,
                                                   bool with_environment);
  Result<std::optional<Source>> OwnSources(const ProfileConfig& profile);
  // role_arn + source_profile: the whole source_profile chain, innermost first.
  Result<Source> SourceProfileChain(const std::string& profile);
  // The credentials the last profile of a source_profile chain gives by itself.
  Result<Source> OwnCredentials(const ProfileConfig& profile, bool is_source);
  Result<Source> CredentialSourceOf(const ProfileConfig& profile);
  Result<Source> WebIdentity(const std::string& token_file, const std::string& role_arn,
                             const std::string& session_name, std::optional<int> duration,
                             const std::string& origin);
  Result<Source> Sso(const ProfileConfig& profile);
  Source StaticKeys(const ProfileConfig& profile) {
    return Source{std::make_shared<ProfileCredentialsProvider>(environment_.files, profile.name),
                  "the static keys of profile " + SingleQuoted(profile.name)};
  }
  Source Process(const ProfileConfig& profile) {
    return Refreshing(
        std::make_unique<ProcessCredentialsProvider>(profile.credential_process, *context_.clock),
        "the credential_process of profile " + SingleQuoted(profile.name));
  }
  Source Container() {
    return Refreshing(
        std::make_unique<ContainerCredentialsProvider>(context_.fetch, environment_.container),
        "the container credentials endpoint");
  }
  Source Imds() {
    return Refreshing(std::make_unique<ImdsCredentialsProvider>(context_.imds_fetch,
                                                                environment_.imds, *context_.clock),
                      "the instance metadata service at " + environment_.imds.endpoint);
  }

  const ChainEnvironment& environment_;
  ChainContext context_;
  CredentialChain& chain_;
};

Source ChainAssembler::AssumeRole(Source base, const AssumeRoleSettings& settings) {
  std::string description = "role " + settings.role_arn + " assumed with " + base.description;
  return Refreshing(std::make_unique<AssumeRoleProvider>(std::move(base.provider), Sts(), settings),
                    std::move(description));
}

Result<Source> ChainAssembler::WebIdentity(const std::string& token_file,
                                           const std::string& role_arn,
                                           const std::string& session_name,
                                           std::optional<int> duration, const std::string& origin) {
  if (role_arn.empty()) {
    return CredentialsError(origin + " sets a web identity token file but no role ARN (" +
                            (origin == "the environment" ? "AWS_ROLE_ARN" : "role_arn") + ")");
  }
  return Refreshing(std::make_unique<WebIdentityProvider>(
                        Sts(), WebIdentitySettings{token_file, role_arn, session_name, duration}),
                    "role " + role_arn + " assumed with the web identity token in " + token_file);
}

Result<Source> ChainAssembler::Sso(const ProfileConfig& profile) {
  for (const auto& [value, key] : {std::pair{&profile.sso_start_url, "sso_start_url"},
                                   std::pair{&profile.sso_region, "sso_region"},
                                   std::pair{&profile.sso_account_id, "sso_account_id"},
                                   std::pair{&profile.sso_role_name, "sso_role_name"}}) {
    if (value->empty()) {
      return CredentialsError("profile " + SingleQuoted(profile.name) + " uses SSO but sets no " +
                              key);
    }
  }
  SsoSettings settings{.start_url = profile.sso_start_url,
                       .sso_region = profile.sso_region,
                       .account_id = profile.sso_account_id,
                       .role_name = profile.sso_role_name,
                       .session_name = profile.sso_session,
                       .profile_name = profile.name,
                       .cache_dir = environment_.sso_cache_dir,
                       .portal_endpoint = environment_.sso_endpoint};
  return Refreshing(std::make_unique<SsoCredentialsProvider>(context_.fetch, *context_.clock,
                                                             std::move(settings)),
                    "SSO role " + profile.sso_role_name + " in account " + profile.sso_account_id +
                        " (profile " + SingleQuoted(profile.name) + ")");
}

Result<Source> ChainAssembler::CredentialSourceOf(const ProfileConfig& profile) {
  switch (*profile.credential_source) {
    case CredentialSource::kEnvironment: {
      auto source = EnvironmentSource(environment_);
      if (!source.ok()) return std::move(source).error();
      if (source->has_value()) return std::move(**source);
      return CredentialsError("profile " + SingleQuoted(profile.name) +
                              " has credential_source = Environment, but AWS_ACCESS_KEY_ID and "
                              "AWS_SECRET_ACCESS_KEY are not set");
    }
    case CredentialSource::kEc2InstanceMetadata:
      if (environment_.imds.disabled) {
        return CredentialsError("profile " + SingleQuoted(profile.name) +
                                " has credential_source = Ec2InstanceMetadata, but "
                                "AWS_EC2_METADATA_DISABLED turns the metadata service off");
      }
      return Imds();
    case CredentialSource::kEcsContainer:
      if (!environment_.container.configured()) {
        return CredentialsError("profile " + SingleQuoted(profile.name) +
                                " has credential_source = EcsContainer, but neither "
                                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
                                "AWS_CONTAINER_CREDENTIALS_FULL_URI is set");
      }
      return Container();
  }
  return CredentialsError("unknown credential_source");
}

Result<Source> ChainAssembler::OwnCredentials(const ProfileConfig& profile, bool is_source) {
  if (is_source && profile.has_static_keys()) return StaticKeys(profile);
  if (profile.credential_source.has_value()) {
    auto base = CredentialSourceOf(profile);
    if (!base.ok()) return std::move(base).error();
    return AssumeRole(std::move(base).value(),
                      AssumeRoleSettings{profile.role_arn, profile.role_session_name,
                                         profile.external_id, profile.duration_seconds});
  }
  auto own = ProfileSources(profile);
  if (!own.ok()) return std::move(own).error();
  if (own->has_value()) return std::move(**own);
  return CredentialsError("source profile " + SingleQuoted(profile.name) +
                          " has no credentials of its own (static keys, credential_source, "
                          "web identity, SSO or credential_process)");
}

Result<Source> ChainAssembler::SourceProfileChain(const std::string& profile) {
  auto chain = ResolveSourceChain(environment_.files, profile);
  if (!chain.ok()) return std::move(chain).error();
  auto source = OwnCredentials(chain->back(), chain->size() > 1);
  if (!source.ok()) return std::move(source).error();
  Source current = std::move(source).value();
  for (size_t i = chain->size() - 1; i-- > 0;) {
    const ProfileConfig& link = (*chain)[i];
    current =
        AssumeRole(std::move(current), AssumeRoleSettings{link.role_arn, link.role_session_name,
                                                          link.external_id, link.duration_seconds});
  }
  return current;
}

namespace {

Result<std::optional<Source>> Found(Result<Source> source) {
  if (!source.ok()) return std::move(source).error();
  return std::optional<Source>(std::move(source).value());
}

}  // namespace

Result<std::optional<Source>> ChainAssembler::RoleSources(const ProfileConfig& profile) {
  if (!profile.source_profile.empty() && !profile.role_arn.empty()) {
    return Found(SourceProfileChain(profile.name));
  }
  if (profile.credential_source.has_value()) return Found(OwnCredentials(profile, false));
  return std::optional<Source>();
}

Result<std::optional<Source>> ChainAssembler::WebIdentitySources(const ProfileConfig& profile,
                                                                 bool with_environment) {
  // As botocore: each setting from the environment when set there, else from the profile.
  auto pick = [with_environment](const std::string& from_environment,
                                 const std::string& from_profile) {
    return with_environment && !from_environment.empty() ? from_environment : from_profile;
  };
  const std::string token_file =
      pick(environment_.web_identity_token_file, profile.web_identity_token_file);
  if (token_file.empty()) return std::optional<Source>();
  const bool from_environment = token_file != profile.web_identity_token_file;
  return Found(WebIdentity(
      token_file, pick(environment_.role_arn, profile.role_arn),
      pick(environment_.role_session_name, profile.role_session_name), profile.duration_seconds,
      from_environment ? "the environment" : "profile " + SingleQuoted(profile.name)));
}

Result<std::optional<Source>> ChainAssembler::OwnSources(const ProfileConfig& profile) {
  if (UsesSso(profile)) return Found(Sso(profile));
  if (!profile.access_key_id.empty() || !profile.secret_access_key.empty()) {
    auto keys = ProfileStaticKeys(profile);  // only to report a half-written profile now
    if (!keys.ok()) return std::move(keys).error();
    return std::optional<Source>(StaticKeys(profile));
  }
  if (!profile.credential_process.empty()) return std::optional<Source>(Process(profile));
  if (!profile.role_arn.empty()) {
    return CredentialsError("profile " + SingleQuoted(profile.name) +
                            " sets role_arn but neither source_profile, credential_source nor "
                            "web_identity_token_file");
  }
  return std::optional<Source>();
}

Result<std::optional<Source>> ChainAssembler::ProfileSources(const ProfileConfig& profile) {
  auto role = RoleSources(profile);
  if (!role.ok() || role->has_value()) return role;
  auto web_identity = WebIdentitySources(profile, /*with_environment=*/false);
  if (!web_identity.ok() || web_identity->has_value()) return web_identity;
  return OwnSources(profile);
}

Result<Source> ChainAssembler::ProfileOnly(const std::string& profile) {
  auto config = LoadProfileConfig(environment_.files, profile);
  if (!config.ok()) return std::move(config).error();
  auto sources = ProfileSources(*config);
  if (!sources.ok()) return std::move(sources).error();
  if (sources->has_value()) return std::move(**sources);
  return CredentialsError("profile " + SingleQuoted(profile) +
                          " has no credentials: set aws_access_key_id and "
                          "aws_secret_access_key, role_arn with source_profile or "
                          "credential_source, web_identity_token_file, SSO or credential_process");
}

Result<std::optional<Source>> ChainAssembler::DefaultChain() {
  auto environment = EnvironmentSource(environment_);
  if (!environment.ok()) return Failed("environment", std::move(environment).error());
  if (environment->has_value()) return environment;
  Skip("environment", "AWS_ACCESS_KEY_ID is not set");

  const bool named = !environment_.profile.empty();
  const std::string profile_name = named ? environment_.profile : "default";
  const std::string profile_link = "profile " + SingleQuoted(profile_name);
  auto profile = FindProfileConfig(environment_.files, profile_name);
  if (!profile.ok()) return Failed(profile_link, std::move(profile).error());
  const std::string not_found = "not found in " + environment_.files.credentials_file + " or " +
                                environment_.files.config_file;
  if (!profile->has_value() && named) return Failed(profile_link, CredentialsError(not_found));
  ProfileConfig empty_profile;
  const ProfileConfig& config = profile->has_value() ? **profile : empty_profile;
  auto role = RoleSources(config);
  if (!role.ok()) return Failed(profile_link, std::move(role).error());
  if (role->has_value()) return role;
  auto web_identity = WebIdentitySources(config, /*with_environment=*/true);
  if (!web_identity.ok()) {
    Skip(profile_link, profile->has_value() ? "assumes no role" : not_found);
    return Failed("web identity", std::move(web_identity).error());
  }
  if (web_identity->has_value()) return web_identity;
  auto own = OwnSources(config);
  if (!own.ok()) return Failed(profile_link, std::move(own).error());
  if (own->has_value()) return own;
  Skip(profile_link, profile->has_value() ? "sets no credentials" : not_found);
  Skip("web identity", "AWS_WEB_IDENTITY_TOKEN_FILE is not set");

  if (environment_.container.configured()) return std::optional<Source>(Container());
  Skip("container",
       "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI "
       "is set");
  if (!environment_.imds.disabled) return std::optional<Source>(Imds());
  Skip("instance metadata", "turned off by AWS_EC2_METADATA_DISABLED");
  return std::optional<Source>();
}

Result<ChainEnvironment> ChainEnvironment::FromProcess() {
  ChainEnvironment environment;
  environment.access_key_id = Env("AWS_ACCESS_KEY_ID");
  environment.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  environment.session_token = Env("AWS_SESSION_TOKEN");
  environment.profile = FirstEnv("AWS_PROFILE", "AWS_DEFAULT_PROFILE");
  auto files = DefaultAwsSharedFiles();
  if (!files.ok()) return std::move(files).error();
  environment.files = std::move(files).value();
  environment.web_identity_token_file = Env("AWS_WEB_IDENTITY_TOKEN_FILE");
  environment.role_arn = Env("AWS_ROLE_ARN");
  environment.role_session_name = Env("AWS_ROLE_SESSION_NAME");
  environment.container = ContainerEnvironment::FromProcess();
  environment.imds = ImdsOptions::FromEnvironment();
  environment.sts_endpoint = FirstEnv("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL");
  environment.sso_endpoint = FirstEnv("AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL");
  return environment;
}

Result<std::unique_ptr<CredentialChain>> CredentialChain::Build(const ChainRequest& request,
                                                                const ChainEnvironment& environment,
                                                                ChainContext context) {
  if (context.clock == nullptr) return CredentialsError("CredentialChain needs a clock");
  std::unique_ptr<CredentialChain> chain(new CredentialChain());
  ChainAssembler assembler(environment, std::move(context), *chain);
  Source source;
  if (request.explicit_source != nullptr) {
    source = Source{request.explicit_source, "the mount options"};
  } else if (request.profile.has_value()) {
    const std::string name = request.profile->empty()
                                 ? (environment.profile.empty() ? "default" : environment.profile)
                                 : *request.profile;
    auto found = assembler.ProfileOnly(name);
    if (!found.ok()) return std::move(found).error();
    source = std::move(found).value();
    source.description = "profile " + SingleQuoted(name) + ": " + source.description;
  } else {
    auto found = assembler.DefaultChain();
    if (!found.ok()) return std::move(found).error();
    if (!found->has_value()) {
      return CredentialsError("no credentials found: " + chain->skipped_);
    }
    source = std::move(**found);
  }
  if (!request.assume_role.role_arn.empty()) {
    source = assembler.AssumeRole(std::move(source), request.assume_role);
  }
  chain->provider_ = std::move(source.provider);
  chain->description_ = std::move(source.description);
  return chain;
}

void CredentialChain::EnableBackgroundRefresh() {
  for (RefreshingCredentialsProvider* provider : refreshing_) provider->EnableBackgroundRefresh();
}

CredentialChain::~CredentialChain() = default;

Result<Credentials> CredentialChain::GetCredentials() {
  auto credentials = provider_->GetCredentials();
  if (credentials.ok() || skipped_.empty()) return credentials;
  Error error = std::move(credentials).error();
  error.message += " (sources skipped before it: " + skipped_ + ")";
  return error;
}

}  // namespace s3mount
