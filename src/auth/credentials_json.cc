// Parsing of JSON credential documents (see credentials_json.h).
#include "s3mount/auth/credentials_json.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "s3mount/common/time_format.h"

namespace s3mount {
namespace {

Error JsonError(std::string_view source, std::string_view what) {
  return MakeError(ErrorCode::kCredentials, std::string(source) + ": " + std::string(what));
}

Result<WallTime> ExpirationOf(const nlohmann::json& value, std::string_view name,
                              std::string_view source) {
  if (value.is_string()) {
    auto parsed = ParseIso8601(value.get_ref<const std::string&>());
    if (!parsed.ok()) {
      return JsonError(source, std::string(name) + " is not an ISO-8601 time");
    }
    return *parsed;
  }
  if (value.is_number_integer() || value.is_number_unsigned()) {
    const auto millis = value.get<long long>();
    // Bound it so the conversion to WallTime cannot overflow (year ~2262 in nanoseconds).
    constexpr long long kMaxMillis = 9'000'000'000'000;  // year 2255
    if (millis < 0 || millis > kMaxMillis) {
      return JsonError(source, std::string(name) + " is out of range");
    }
    return WallTime(
        std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(millis)));
  }
  return JsonError(source, std::string(name) + " is neither a time string nor a number");
}

}  // namespace

Result<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view source) {
  nlohmann::json parsed =
      nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return JsonError(source, "reply is not valid JSON");
  if (!parsed.is_object()) return JsonError(source, "reply is not a JSON object");
  return parsed;
}

const std::string* JsonStringMember(const nlohmann::json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

Result<Credentials> CredentialsFromJson(const nlohmann::json& object,
                                        const CredentialJsonFields& fields,
                                        std::string_view source) {
  Credentials credentials;
  const std::string* key = JsonStringMember(object, fields.access_key_id);
  if (key == nullptr || key->empty()) {
    return JsonError(source, "reply has no " + std::string(fields.access_key_id));
  }
  const std::string* secret = JsonStringMember(object, fields.secret_access_key);
  if (secret == nullptr || secret->empty()) {
    return JsonError(source, "reply has no " + std::string(fields.secret_access_key));
  }
  credentials.access_key_id = *key;
  credentials.secret_access_key = *secret;
  if (!fields.session_token.empty()) {
    auto it = object.find(fields.session_token);
    if (it != object.end() && !it->is_null()) {
      if (!it->is_string()) {
        return JsonError(source, std::string(fields.session_token) + " is not a string");
      }
      credentials.session_token = it->get<std::string>();
    }
    if (fields.session_token_required && credentials.session_token.empty()) {
      return JsonError(source, "reply has no " + std::string(fields.session_token));
    }
  }
  if (!fields.expiration.empty()) {
    auto it = object.find(fields.expiration);
    if (it != object.end() && !it->is_null()) {
      auto expiration = ExpirationOf(*it, fields.expiration, source);
      if (!expiration.ok()) return std::move(expiration).error();
      credentials.expiration = *expiration;
    } else if (fields.expiration_required) {
      return JsonError(source, "reply has no " + std::string(fields.expiration));
    }
  }
  return credentials;
}

}  // namespace s3mount
