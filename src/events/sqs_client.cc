// SqsClient: builds, signs and sends SQS ReceiveMessage and DeleteMessageBatch requests in the
// JSON or query protocol and reads the replies (see include/s3mount/events/sqs_client.h).
#include "s3mount/events/sqs_client.h"

#include <spdlog/spdlog.h>

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/xml_document.h"
#include "events/sqs_queue_url.h"
#include "s3mount/aws/crypto.h"
#include "s3mount/aws/error_codes.h"
#include "s3mount/aws/uri_encoding.h"
#include "s3mount/common/logging.h"
#include "s3mount/common/strings.h"

namespace s3mount {
namespace {

using nlohmann::json;

constexpr std::string_view kApiVersion = "2012-11-05";
constexpr std::string_view kJsonContentType = "application/x-amz-json-1.0";
constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded";
constexpr size_t kMaxMessageBytes = 600;

// Caps the length and scrubs the credentials' secrets from a message.
std::string Scrub(std::string text, const Credentials& credentials) {
  const std::array<std::string_view, 2> secrets = {credentials.secret_access_key,
                                                   credentials.session_token};
  return ScrubSecrets(std::move(text), secrets, kMaxMessageBytes);
}

// SQS's code without the JSON protocol's namespace ("com.amazonaws.sqs#QueueDoesNotExist").
std::string NormalizeCode(std::string_view code) {
  size_t hash = code.rfind('#');
  if (hash != std::string_view::npos) code.remove_prefix(hash + 1);
  return std::string(TrimAsciiSpace(code));
}

ErrorCode KindOfStatus(long status) {
  if (status == 500) return ErrorCode::kInternalError;
  if (status == 502 || status == 503 || status == 504) return ErrorCode::kServiceUnavailable;
  if (status >= 500) return ErrorCode::kUnknown;
  if (status >= 400) return ErrorCode::kBadRequest;
  return ErrorCode::kInvalidResponse;
}

// The ErrorCode for an SQS error code; `status` decides for codes we do not model.
ErrorCode KindOfSqsCode(std::string_view code, long status) {
  std::string_view name = code;
  constexpr std::string_view kLegacy = "AWS.SimpleQueueService.";
  if (name.starts_with(kLegacy)) name.remove_prefix(kLegacy.size());
  if (name.ends_with("Exception")) name.remove_suffix(9);
  if (auto known = ErrorCodeFromAwsCode(name)) return *known;
  return KindOfStatus(status);
}

// Whether an error reply means what it says whatever protocol the server speaks (so a JSON
// request answered with it must not be retried in the query protocol).
bool IsProtocolIndependent(ErrorCode kind) {
  return kind != ErrorCode::kBadRequest && kind != ErrorCode::kUnknown &&
         kind != ErrorCode::kInvalidResponse && kind != ErrorCode::kInternalError;
}

struct SqsErrorReply {
  std::string code;
  std::string message;
};

// SQS's error in a JSON reply ({"__type":...,"message":...}), if it is one.
std::optional<SqsErrorReply> JsonErrorOf(const json& reply) {
  if (!reply.is_object()) return std::nullopt;
  auto type = reply.find("__type");
  if (type == reply.end() || !type->is_string()) return std::nullopt;
  SqsErrorReply error{NormalizeCode(type->get_ref<const std::string&>()), ""};
  for (const char* name : {"message", "Message"}) {
    auto it = reply.find(name);
    if (it != reply.end() && it->is_string()) {
      error.message = it->get<std::string>();
      break;
    }
  }
  return error;
}

// SQS's error in an XML reply: <ErrorResponse><Error><Code/><Message/>, moto's
// <ErrorResponse><Errors><Error>, or a bare <Error>.
std::optional<SqsErrorReply> XmlErrorOf(const XmlNode& root) {
  if (root.LocalName() != "ErrorResponse" && root.LocalName() != "Error" &&
      root.LocalName() != "Response") {
    return std::nullopt;
  }
  XmlNode error = root.LocalName() == "Error" ? root : root.Child("Error");
  if (!error) error = root.Child("Errors").Child("Error");
  if (!error) return std::nullopt;
  auto code = error.ChildText("Code");
  auto message = error.ChildText("Message");
  if (!message) message = error.ChildText("message");
  return SqsErrorReply{NormalizeCode(code.value_or("")),
                       std::string(TrimAsciiSpace(message.value_or("")))};
}

json ParseJsonLenient(std::string_view body) {
  return json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
}

// "HTTP 500 (text/html, 245 bytes)": what a reply looked like, for messages.
std::string Describe(const HttpResponse& response) {
  std::string text = "HTTP " + std::to_string(response.status) + " (";
  auto type = response.Header("content-type");
  text += type ? *type + ", " : std::string();
  return text + std::to_string(response.body.size()) + " bytes)";
}

std::string EncodeForm(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string form;
  for (const auto& [name, value] : fields) {
    if (!form.empty()) form += '&';
    form += UriEncode(name, true) + "=" + UriEncode(value, true);
  }
  return form;
}

std::string DumpJson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

const std::string* StringMember(const json& object, std::string_view name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

}  // namespace

std::string_view SqsProtocolName(SqsProtocol protocol) {
  switch (protocol) {
    case SqsProtocol::kAuto:
      return "auto";
    case SqsProtocol::kJson:
      return "json";
    case SqsProtocol::kQuery:
      return "query";
  }
  return "unknown";
}

std::vector<SqsDeleteEntry> SqsDeleteEntriesFor(const std::vector<SqsMessage>& messages) {
  std::vector<SqsDeleteEntry> entries;
  entries.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    entries.push_back({std::to_string(i), messages[i].receipt_handle});
  }
  return entries;
}

Result<std::unique_ptr<SqsClient>> SqsClient::Create(HttpFetch fetch,
                                                     CredentialsProvider& credentials, Clock& clock,
                                                     SqsClientOptions options) {
  S3M_RETURN_IF_ERROR(ValidateSqsQueueUrl(options.queue_url));
  auto parts = SplitSqsUrl(options.queue_url);
  S3M_RETURN_IF_ERROR(parts);
  if (options.region.empty()) options.region = SqsRegionFromQueueUrl(options.queue_url);
  if (options.region.empty()) options.region = "us-east-1";
  return std::unique_ptr<SqsClient>(new SqsClient(std::move(fetch), credentials, clock,
                                                  std::move(options), parts->scheme, parts->host,
                                                  parts->path));
}

SqsClient::SqsClient(HttpFetch fetch, CredentialsProvider& credentials, Clock& clock,
                     SqsClientOptions options, std::string scheme, std::string host,
                     std::string path)
    : fetch_(std::move(fetch)),
      credentials_(credentials),
      clock_(clock),
      queue_url_(std::move(options.queue_url)),
      region_(std::move(options.region)),
      scheme_(std::move(scheme)),
      host_(std::move(host)),
      path_(std::move(path)),
      protocol_(options.protocol),
      cancel_(options.cancel) {}

std::string SqsClient::Prefix(std::string_view action) const {
  return "SQS " + std::string(action) + " on " + queue_url_ + " failed: ";
}

Result<HttpResponse> SqsClient::Send(SqsProtocol protocol, std::string_view action,
                                     const std::string& body,
                                     const Credentials& credentials) const {
  HttpRequest http;
  http.method = "POST";
  http.body = body;
  http.cancel = cancel_;
  HttpRequestToSign to_sign{"POST", host_, "/", {}, {}, Sha256Hex(body)};
  if (protocol == SqsProtocol::kQuery) {
    http.url = scheme_ + "://" + host_ + SigV4Signer::EncodePath(path_, "sqs");
    to_sign.path = path_;
    to_sign.headers = {{"Content-Type", std::string(kFormContentType)}};
  } else {
    http.url = scheme_ + "://" + host_ + "/";
    to_sign.headers = {{"Content-Type", std::string(kJsonContentType)},
                       {"X-Amz-Target", "AmazonSQS." + std::string(action)}};
  }
  http.headers = to_sign.headers;
  SignedRequest signed_request = signer_.Sign(to_sign, credentials, {region_, "sqs", clock_.Now()});
  for (auto& header : signed_request.headers_to_add) http.headers.push_back(std::move(header));
  return fetch_(http);
}

namespace {

Error SqsError(const std::string& prefix, const SqsErrorReply& reply, const HttpResponse& response,
               const Credentials& credentials) {
  std::string code = reply.code.empty() ? "HTTP " + std::to_string(response.status) : reply.code;
  std::string text = prefix + code;
  if (!reply.message.empty()) text += ": " + reply.message;
  Error error = MakeError(KindOfSqsCode(reply.code, response.status), Scrub(text, credentials));
  error.s3_code = Scrub(reply.code, credentials);
  error.http_status = static_cast<int>(response.status);
  error.request_id = response.Header("x-amzn-requestid").value_or("");
  return error;
}

Error ReplyError(ErrorCode kind, std::string message, const HttpResponse& response) {
  Error error = MakeError(kind, std::move(message));
  error.http_status = static_cast<int>(response.status);
  return error;
}

Error TransportError(const std::string& prefix, Error error, const Credentials& credentials) {
  error.message = Scrub(prefix + error.message, credentials);
  return error;
}

// SQS's error in `body` if it is an XML error reply.
std::optional<SqsErrorReply> XmlErrorIn(std::string_view body) {
  auto document = XmlDocument::Parse(body);
  if (!document.ok()) return std::nullopt;
  return XmlErrorOf(document->Root());
}

Result<std::vector<SqsMessage>> ParseJsonMessages(const std::string& prefix,
                                                  const HttpResponse& response) {
  json reply = ParseJsonLenient(response.body);
  auto messages = reply.find("Messages");
  std::vector<SqsMessage> result;
  if (messages == reply.end() || messages->is_null()) return result;
  if (!messages->is_array()) {
    return ReplyError(ErrorCode::kInvalidResponse, prefix + "Messages is not a list", response);
  }
  for (const json& message : *messages) {
    const std::string* id = StringMember(message, "MessageId");
    const std::string* handle = StringMember(message, "ReceiptHandle");
    const std::string* body = StringMember(message, "Body");
    if (id == nullptr || handle == nullptr || body == nullptr) {
      return ReplyError(ErrorCode::kInvalidResponse,
                        prefix + "a message lacks MessageId, ReceiptHandle or Body", response);
    }
    result.push_back({*id, *handle, *body});
  }
  return result;
}

Result<std::vector<SqsMessage>> ParseXmlMessages(const std::string& prefix,
                                                 const HttpResponse& response) {
  auto document = XmlDocument::Parse(response.body);
  S3M_RETURN_IF_ERROR(document);
  std::vector<SqsMessage> result;
  XmlNode list = document->Root().Child("ReceiveMessageResult");
  for (const XmlNode& message : list.Children("Message")) {
    auto id = message.ChildText("MessageId");
    auto handle = message.ChildText("ReceiptHandle");
    auto body = message.ChildText("Body");
    if (!id || !handle || !body) {
      return ReplyError(ErrorCode::kInvalidResponse,
                        prefix + "a <Message> lacks MessageId, ReceiptHandle or Body", response);
    }
    result.push_back(
        {std::string(TrimAsciiSpace(*id)), std::string(TrimAsciiSpace(*handle)), std::move(*body)});
  }
  return result;
}

Result<SqsDeleteResult> ParseJsonDeletes(const std::string& prefix, const HttpResponse& response) {
  json reply = ParseJsonLenient(response.body);
  SqsDeleteResult result;
  for (const char* list : {"Successful", "Failed"}) {
    auto entries = reply.find(list);
    if (entries == reply.end() || entries->is_null()) continue;
    if (!entries->is_array()) {
      return ReplyError(ErrorCode::kInvalidResponse, prefix + std::string(list) + " is not a list",
                        response);
    }
    for (const json& entry : *entries) {
      const std::string* id = StringMember(entry, "Id");
      if (id == nullptr) {
        return ReplyError(ErrorCode::kInvalidResponse,
                          prefix + "an entry of " + std::string(list) + " has no Id", response);
      }
      if (std::string_view(list) == "Successful") {
        result.successful.push_back(*id);
        continue;
      }
      SqsDeleteFailure failure{*id, "", "", false};
      if (const std::string* code = StringMember(entry, "Code")) failure.code = *code;
      if (const std::string* message = StringMember(entry, "Message")) failure.message = *message;
      auto fault = entry.find("SenderFault");
      failure.sender_fault = fault != entry.end() && fault->is_boolean() && fault->get<bool>();
      result.failed.push_back(std::move(failure));
    }
  }
  return result;
}

Result<SqsDeleteResult> ParseXmlDeletes(const HttpResponse& response) {
  auto document = XmlDocument::Parse(response.body);
  S3M_RETURN_IF_ERROR(document);
  XmlNode list = document->Root().Child("DeleteMessageBatchResult");
  SqsDeleteResult result;
  for (const XmlNode& entry : list.Children("DeleteMessageBatchResultEntry")) {
    result.successful.emplace_back(TrimAsciiSpace(entry.ChildText("Id").value_or("")));
  }
  for (const XmlNode& entry : list.Children("BatchResultErrorEntry")) {
    SqsDeleteFailure failure;
    failure.id = TrimAsciiSpace(entry.ChildText("Id").value_or(""));
    failure.code = TrimAsciiSpace(entry.ChildText("Code").value_or(""));
    failure.message = TrimAsciiSpace(entry.ChildText("Message").value_or(""));
    failure.sender_fault = TrimAsciiSpace(entry.ChildText("SenderFault").value_or("")) == "true";
    result.failed.push_back(std::move(failure));
  }
  return result;
}

}  // namespace

Result<HttpResponse> SqsClient::CallJson(std::string_view action, const std::string& body,
                                         const Credentials& credentials,
                                         std::string* fall_back_because) {
  const std::string prefix = Prefix(action);
  const SqsProtocol mode = protocol_.load();
  auto response = Send(SqsProtocol::kJson, action, body, credentials);
  if (!response.ok()) return TransportError(prefix, std::move(response).error(), credentials);
  json reply = ParseJsonLenient(response->body);
  if (reply.is_object()) {
    SqsProtocol expected = SqsProtocol::kAuto;
    auto error = JsonErrorOf(reply);
    if (response->status >= 200 && response->status <= 299 && !error) {
      protocol_.compare_exchange_strong(expected, SqsProtocol::kJson);
      return std::move(*response);
    }
    if (error) {
      protocol_.compare_exchange_strong(expected, SqsProtocol::kJson);
      return SqsError(prefix, *error, *response, credentials);
    }
    return ReplyError(KindOfStatus(response->status),
                      prefix + Describe(*response) + " with JSON that is not an SQS error",
                      *response);
  }
  auto xml_error = XmlErrorIn(response->body);
  if (xml_error && (mode == SqsProtocol::kJson ||
                    IsProtocolIndependent(KindOfSqsCode(xml_error->code, response->status)))) {
    return SqsError(prefix, *xml_error, *response, credentials);
  }
  Error error = ReplyError(ErrorCode::kInvalidResponse,
                           prefix + "the reply is not JSON: " + Describe(*response), *response);
  if (mode != SqsProtocol::kJson) *fall_back_because = Describe(*response);
  return error;
}

Result<HttpResponse> SqsClient::Call(std::string_view action, const std::string& json_body,
                                     const std::string& query_form, SqsProtocol* used) {
  const std::string prefix = Prefix(action);
  auto credentials_result = credentials_.GetCredentials();
  if (!credentials_result.ok()) {
    Error error = std::move(credentials_result).error();
    error.message = prefix + "no credentials: " + error.message;
    return error;
  }
  const Credentials& credentials = *credentials_result;
  std::string json_attempt;  // what the JSON request got, when falling back
  if (protocol_.load() != SqsProtocol::kQuery) {
    auto response = CallJson(action, json_body, credentials, &json_attempt);
    if (response.ok()) *used = SqsProtocol::kJson;
    if (json_attempt.empty()) return response;
  }
  auto response = Send(SqsProtocol::kQuery, action, query_form, credentials);
  if (!response.ok()) return TransportError(prefix, std::move(response).error(), credentials);
  auto document = XmlDocument::Parse(response->body);
  if (!document.ok()) {
    std::string what = json_attempt.empty()
                           ? "the reply is not XML: " + Describe(*response)
                           : "the server answered neither the JSON protocol (" + json_attempt +
                                 ") nor the query protocol (" + Describe(*response) + ")";
    return ReplyError(ErrorCode::kInvalidResponse, prefix + what, *response);
  }
  if (auto error = XmlErrorOf(document->Root())) {
    return SqsError(prefix, *error, *response, credentials);
  }
  if (response->status < 200 || response->status > 299) {
    return ReplyError(KindOfStatus(response->status),
                      prefix + Describe(*response) + " with <" +
                          std::string(document->Root().LocalName()) + "> instead of an error",
                      *response);
  }
  SqsProtocol expected = SqsProtocol::kAuto;
  if (protocol_.compare_exchange_strong(expected, SqsProtocol::kQuery)) {
    spdlog::info("SQS: {} does not speak the JSON protocol ({}); using the query protocol",
                 queue_url_, json_attempt);
  }
  *used = SqsProtocol::kQuery;
  return std::move(*response);
}

Result<std::vector<SqsMessage>> SqsClient::ReceiveMessages(int max_messages,
                                                           std::chrono::seconds wait_time) {
  const std::string prefix = Prefix("ReceiveMessage");
  if (max_messages < 1 || max_messages > kSqsMaxBatch) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        prefix + "MaxNumberOfMessages must be 1 to 10, not " + std::to_string(max_messages));
  }
  if (wait_time < std::chrono::seconds(0) || wait_time > kSqsMaxWaitTime) {
    return MakeError(ErrorCode::kInvalidArgument, prefix + "WaitTimeSeconds must be 0 to 20, not " +
                                                      std::to_string(wait_time.count()));
  }
  json body = {{"QueueUrl", queue_url_},
               {"MaxNumberOfMessages", max_messages},
               {"WaitTimeSeconds", wait_time.count()}};
  std::string form = EncodeForm({{"Action", "ReceiveMessage"},
                                 {"Version", std::string(kApiVersion)},
                                 {"QueueUrl", queue_url_},
                                 {"MaxNumberOfMessages", std::to_string(max_messages)},
                                 {"WaitTimeSeconds", std::to_string(wait_time.count())}});
  SqsProtocol used = SqsProtocol::kAuto;
  auto response = Call("ReceiveMessage", DumpJson(body), form, &used);
  S3M_RETURN_IF_ERROR(response);
  return used == SqsProtocol::kJson ? ParseJsonMessages(prefix, *response)
                                    : ParseXmlMessages(prefix, *response);
}

Status SqsClient::CheckQueue() {
  json body = {{"QueueUrl", queue_url_}, {"AttributeNames", json::array({"QueueArn"})}};
  std::string form = EncodeForm({{"Action", "GetQueueAttributes"},
                                 {"Version", std::string(kApiVersion)},
                                 {"QueueUrl", queue_url_},
                                 {"AttributeName.1", "QueueArn"}});
  SqsProtocol used = SqsProtocol::kAuto;
  auto response = Call("GetQueueAttributes", DumpJson(body), form, &used);
  S3M_RETURN_IF_ERROR(response);
  return OkStatus();
}

Result<SqsDeleteResult> SqsClient::DeleteMessageBatch(const std::vector<SqsDeleteEntry>& entries) {
  const std::string prefix = Prefix("DeleteMessageBatch");
  if (entries.empty() || entries.size() > static_cast<size_t>(kSqsMaxBatch)) {
    return MakeError(ErrorCode::kInvalidArgument, prefix + "a batch holds 1 to 10 entries, not " +
                                                      std::to_string(entries.size()));
  }
  std::set<std::string_view> ids;
  json list = json::array();
  std::vector<std::pair<std::string, std::string>> fields = {{"Action", "DeleteMessageBatch"},
                                                             {"Version", std::string(kApiVersion)},
                                                             {"QueueUrl", queue_url_}};
  for (size_t i = 0; i < entries.size(); ++i) {
    const SqsDeleteEntry& entry = entries[i];
    if (!IsValidSqsName(entry.id, 80) || !ids.insert(entry.id).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       prefix +
                           "entry ids must be distinct, 1 to 80 letters, digits, '-' or "
                           "'_'; '" +
                           entry.id.substr(0, 100) + "' is not");
    }
    if (entry.receipt_handle.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       prefix + "entry '" + entry.id + "' has no receipt handle");
    }
    list.push_back({{"Id", entry.id}, {"ReceiptHandle", entry.receipt_handle}});
    std::string field = "DeleteMessageBatchRequestEntry." + std::to_string(i + 1);
    fields.emplace_back(field + ".Id", entry.id);
    fields.emplace_back(field + ".ReceiptHandle", entry.receipt_handle);
  }
  json body = {{"QueueUrl", queue_url_}, {"Entries", std::move(list)}};
  SqsProtocol used = SqsProtocol::kAuto;
  auto response = Call("DeleteMessageBatch", DumpJson(body), EncodeForm(fields), &used);
  S3M_RETURN_IF_ERROR(response);
  return used == SqsProtocol::kJson ? ParseJsonDeletes(prefix, *response)
                                    : ParseXmlDeletes(*response);
}

}  // namespace s3mount
