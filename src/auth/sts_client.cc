// StsClient: builds, signs and sends STS query-protocol requests and reads the XML replies
// (see include/s3mount/auth/sts_client.h).
#include "s3mount/auth/sts_client.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/xml_document.h"
#include "s3mount/aws/crypto.h"
#include "s3mount/aws/uri_encoding.h"
#include "s3mount/aws/url.h"
#include "s3mount/common/logging.h"
#include "s3mount/common/strings.h"
#include "s3mount/common/time_format.h"

namespace s3mount {
namespace {

constexpr std::string_view kApiVersion = "2011-06-15";
constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded";
constexpr size_t kMaxMessageBytes = 512;

bool IsGlobalRegion(std::string_view region) { return region.empty() || region == "aws-global"; }

std::string Prefix(std::string_view action, std::string_view role_arn) {
  return "STS " + std::string(action) + " of " + std::string(role_arn) + " failed: ";
}

std::string Scrub(std::string text, const std::vector<std::string_view>& secrets) {
  return ScrubSecrets(std::move(text), secrets, kMaxMessageBytes);
}

Error StsError(std::string message, long http_status, std::string code = "") {
  Error error = MakeError(ErrorCode::kCredentials, std::move(message));
  error.http_status = static_cast<int>(http_status);
  error.s3_code = std::move(code);
  return error;
}

// Splits an http(s) URL (aws/url.h) into the parts a request is built and signed from; false
// when it is not one, or holds user information, a query or a fragment.
bool SplitUrl(std::string_view url, std::string* scheme, std::string* host, std::string* path) {
  auto parsed = ParseHttpUrl(url);
  if (!parsed.ok() || parsed->has_user_info || parsed->has_query || parsed->has_fragment) {
    return false;
  }
  *scheme = parsed->scheme;
  *host = parsed->HostHeader();  // curl leaves a default port out; the signature must match
  *path = parsed->path;
  return true;
}

std::string ChildTextTrimmed(const XmlNode& node, std::string_view name) {
  auto text = node.ChildText(name);
  return text ? std::string(TrimAsciiSpace(*text)) : std::string();
}

// The first `<Error>` of an error reply as an Error. AWS sends `<ErrorResponse><Error>`;
// moto's authentication errors come as `<ErrorResponse><Errors><Error>`; some services use
// `<Response><Errors><Error>` or a bare `<Error>` root.
Error ErrorFromXml(const XmlNode& root, const std::string& prefix, long http_status,
                   const std::vector<std::string_view>& secrets) {
  XmlNode error = root.LocalName() == "Error" ? root : root.Child("Error");
  if (!error) error = root.Child("Errors").Child("Error");
  std::string code = ChildTextTrimmed(error, "Code");
  std::string message = ChildTextTrimmed(error, "Message");
  if (code.empty()) code = "HTTP " + std::to_string(http_status);
  std::string text = prefix + code;
  if (!message.empty()) text += ": " + message;
  return StsError(Scrub(std::move(text), secrets), http_status, Scrub(code, secrets));
}

Result<Credentials> ParseReply(std::string_view action, std::string_view role_arn, long http_status,
                               std::string_view body,
                               const std::vector<std::string_view>& secrets) {
  const std::string prefix = Prefix(action, role_arn);
  auto document = XmlDocument::Parse(body);
  if (!document.ok()) {
    return StsError(
        prefix + "HTTP " + std::to_string(http_status) + " with " +
            (body.empty() ? "an empty reply"
                          : "a reply that is not XML (" + std::to_string(body.size()) + " bytes)"),
        http_status);
  }
  XmlNode root = document->Root();
  bool is_error = root.LocalName() == "ErrorResponse" || root.LocalName() == "Error" ||
                  (root.LocalName() == "Response" && root.Child("Errors"));
  if (is_error || http_status < 200 || http_status > 299) {
    if (!is_error) {
      return StsError(prefix + "HTTP " + std::to_string(http_status) + " with <" +
                          std::string(root.LocalName()) + "> instead of an error",
                      http_status);
    }
    return ErrorFromXml(root, prefix, http_status, secrets);
  }
  XmlNode credentials = root.Child(std::string(action) + "Result").Child("Credentials");
  if (!credentials) {
    return StsError(prefix + "reply <" + std::string(root.LocalName()) + "> has no <" +
                        std::string(action) + "Result><Credentials>",
                    http_status);
  }
  Credentials result;
  result.access_key_id = ChildTextTrimmed(credentials, "AccessKeyId");
  result.secret_access_key = ChildTextTrimmed(credentials, "SecretAccessKey");
  result.session_token = ChildTextTrimmed(credentials, "SessionToken");
  std::string expiration = ChildTextTrimmed(credentials, "Expiration");
  for (auto [name, value] :
       {std::pair<std::string_view, const std::string*>{"AccessKeyId", &result.access_key_id},
        {"SecretAccessKey", &result.secret_access_key},
        {"SessionToken", &result.session_token},
        {"Expiration", &expiration}}) {
    if (value->empty()) {
      return StsError(prefix + "reply has no <" + std::string(name) + ">", http_status);
    }
  }
  auto expires = ParseIso8601(expiration);
  if (!expires.ok()) {
    return StsError(
        prefix + "reply has an unreadable <Expiration> '" + Scrub(expiration, secrets) + "'",
        http_status);
  }
  result.expiration = *expires;
  return result;
}

}  // namespace

std::string StsEndpointUrl(const StsOptions& options) {
  if (!options.endpoint_override.empty()) return options.endpoint_override;
  if (IsGlobalRegion(options.region)) return "https://sts.amazonaws.com";
  std::string suffix = options.region.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com";
  return "https://sts." + options.region + suffix;
}

std::string StsSigningRegion(const StsOptions& options) {
  return IsGlobalRegion(options.region) ? "us-east-1" : options.region;
}

std::string EncodeStsForm(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string form;
  for (const auto& [name, value] : fields) {
    if (!form.empty()) form += '&';
    form += UriEncode(name, true);
    form += '=';
    form += UriEncode(value, true);
  }
  return form;
}

Result<Credentials> ParseStsCredentialsReply(std::string_view action, std::string_view role_arn,
                                             long http_status, std::string_view body) {
  return ParseReply(action, role_arn, http_status, body, {});
}

StsClient::StsClient(HttpFetch fetch, Clock& clock, const StsOptions& options)
    : fetch_(std::move(fetch)),
      clock_(clock),
      endpoint_url_(StsEndpointUrl(options)),
      signing_region_(StsSigningRegion(options)) {
  if (!SplitUrl(endpoint_url_, &scheme_, &host_, &path_)) host_.clear();
}

Result<Credentials> StsClient::AssumeRole(const AssumeRoleRequest& request,
                                          const Credentials& source) const {
  const std::string prefix = Prefix("AssumeRole", request.role_arn);
  if (request.role_arn.empty()) return StsError(prefix + "no role ARN given", 0);
  if (request.role_session_name.empty()) return StsError(prefix + "no session name given", 0);
  if (source.anonymous()) {
    return StsError(prefix + "no source credentials to sign the request with", 0);
  }
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Action", "AssumeRole"},
      {"Version", std::string(kApiVersion)},
      {"RoleArn", request.role_arn},
      {"RoleSessionName", request.role_session_name}};
  if (!request.external_id.empty()) fields.emplace_back("ExternalId", request.external_id);
  if (request.duration_seconds) {
    fields.emplace_back("DurationSeconds", std::to_string(*request.duration_seconds));
  }
  return Call("AssumeRole", request.role_arn, EncodeStsForm(fields), &source,
              {source.secret_access_key, source.session_token});
}

Result<Credentials> StsClient::AssumeRoleWithWebIdentity(
    const AssumeRoleWithWebIdentityRequest& request) const {
  const std::string prefix = Prefix("AssumeRoleWithWebIdentity", request.role_arn);
  if (request.role_arn.empty()) return StsError(prefix + "no role ARN given", 0);
  if (request.role_session_name.empty()) return StsError(prefix + "no session name given", 0);
  if (request.web_identity_token.empty()) {
    return StsError(prefix + "the web identity token is empty", 0);
  }
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Action", "AssumeRoleWithWebIdentity"},
      {"Version", std::string(kApiVersion)},
      {"RoleArn", request.role_arn},
      {"RoleSessionName", request.role_session_name},
      {"WebIdentityToken", request.web_identity_token}};
  if (request.duration_seconds) {
    fields.emplace_back("DurationSeconds", std::to_string(*request.duration_seconds));
  }
  return Call("AssumeRoleWithWebIdentity", request.role_arn, EncodeStsForm(fields), nullptr,
              {request.web_identity_token});
}

Result<Credentials> StsClient::Call(std::string_view action, std::string_view role_arn,
                                    const std::string& form, const Credentials* source,
                                    const std::vector<std::string_view>& secrets) const {
  const std::string prefix = Prefix(action, role_arn);
  if (host_.empty()) {
    return StsError(prefix + "the STS endpoint '" + endpoint_url_ + "' is not an http(s) URL", 0);
  }
  HttpRequest http;
  http.method = "POST";
  http.url = scheme_ + "://" + host_ + SigV4Signer::EncodePath(path_, "sts");
  http.headers = {{"Content-Type", std::string(kFormContentType)}};
  http.body = form;
  if (source != nullptr) {
    HttpRequestToSign to_sign{
        "POST",         host_, path_, {}, {{"Content-Type", std::string(kFormContentType)}},
        Sha256Hex(form)};
    SignedRequest signed_request =
        signer_.Sign(to_sign, *source, {signing_region_, "sts", clock_.Now()});
    for (auto& header : signed_request.headers_to_add) http.headers.push_back(std::move(header));
  }
  auto response = fetch_(http);
  if (!response.ok()) {
    Error error = std::move(response).error();
    error.message = Scrub(prefix + error.message, secrets);
    return error;
  }
  return ParseReply(action, role_arn, response->status, response->body, secrets);
}

}  // namespace s3mount
