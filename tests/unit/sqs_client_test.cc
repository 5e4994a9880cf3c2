// Tests for SqsClient against a scripted HttpFetch: the signed requests of both protocols
// (URL, headers, bodies, credential scope), replies of both protocols as moto 5.2.1 sends
// them, the JSON -> query fallback and that it is remembered, errors and their kinds (with no
// secret in any message), argument checks, queue URL validation and region detection.
#include "s3mount/events/sqs_client.h"

#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "s3mount/aws/crypto.h"
#include "s3mount/aws/uri_encoding.h"
#include "s3mount/common/strings.h"
#include "tests/fakes/fake_clock.h"

namespace s3mount {
namespace {

using nlohmann::json;
using testing::FakeClock;

constexpr char kQueueUrl[] = "https://sqs.eu-west-1.amazonaws.com/123456789012/events";
constexpr char kSecret[] = "SqsSecretKeyValue1234567890abcdef";
constexpr char kToken[] = "SqsSessionTokenValue/+=xyz";

struct SeenRequest {
  std::string method;
  std::string url;
  HeaderList headers;
  std::string body;

  std::string Header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (EqualsIgnoreCase(n, name)) return v;
    }
    return "";
  }
};

// Replies as moto sends them.
constexpr char kJsonMessages[] =
    R"({"Messages": [{"MessageId": "m-1", "ReceiptHandle": "rh-1", "MD5OfBody": "x",)"
    R"( "Body": "{\"Records\": []}"}, {"MessageId": "m-2", "ReceiptHandle": "rh-2",)"
    R"( "Body": "second <&>"}]})";
constexpr char kXmlMessages[] =
    R"(<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">)"
    R"(<ReceiveMessageResult><Message><MessageId>m-9</MessageId><ReceiptHandle>rh-9)"
    R"(</ReceiptHandle><MD5OfBody>x</MD5OfBody><Body>{&quot;Records&quot;: [&quot;&lt;&amp;&gt;&quot;]})"
    R"(</Body><Attribute><Name>SenderId</Name><Value>A</Value></Attribute></Message>)"
    R"(</ReceiveMessageResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>)"
    R"(</ReceiveMessageResponse>)";
constexpr char kXmlEmpty[] =
    R"(<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">)"
    R"(<ReceiveMessageResult/><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>)"
    R"(</ReceiveMessageResponse>)";
constexpr char kHtml500[] =
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n";

std::string XmlError(std::string_view code, std::string_view message) {
  return R"(<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>)"
         "<Type>Sender</Type><Code>" +
         std::string(code) + "</Code><Message>" + std::string(message) +
         "</Message></Error><RequestId>r</RequestId></ErrorResponse>";
}

class SqsClientTest : public ::testing::Test {
 protected:
  HttpFetch Fetch() {
    return [this](const HttpRequest& request) -> Result<HttpResponse> {
      std::lock_guard lock(mu_);
      seen_.push_back({request.method, request.url, request.headers, std::string(request.body)});
      if (replies_.empty()) return MakeError(ErrorCode::kNetwork, "no scripted reply");
      auto reply = std::move(replies_.front());
      replies_.erase(replies_.begin());
      return reply;
    };
  }
  void Reply(long status, std::string body, const std::string& content_type = "") {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    if (!content_type.empty()) response.headers.emplace_back("content-type", content_type);
    replies_.emplace_back(std::move(response));
  }
  void ReplyJson(long status, std::string body) {
    Reply(status, std::move(body), "application/x-amz-json-1.0");
  }
  void ReplyXml(long status, std::string body) { Reply(status, std::move(body), "text/xml"); }

  std::unique_ptr<SqsClient> Client(SqsClientOptions options = {.queue_url = kQueueUrl}) {
    auto client = SqsClient::Create(Fetch(), credentials_, clock_, std::move(options));
    EXPECT_TRUE(client.ok()) << client.error().ToString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  // Checks that `request` carries a valid SigV4 signature for `region`, computed over the
  // request as sent (path from the URL, the content-type and target headers, the body).
  void ExpectSigned(const SeenRequest& request, std::string_view region) {
    std::string authorization = request.Header("Authorization");
    EXPECT_NE(authorization.find("Credential=AKIDSQS/20231114/" + std::string(region) +
                                 "/sqs/aws4_request"),
              std::string::npos)
        << authorization;
    EXPECT_EQ(request.Header("X-Amz-Date"), "20231114T221320Z");
    EXPECT_EQ(request.Header("X-Amz-Security-Token"), kToken);
    std::string_view url = request.url;
    url.remove_prefix(url.find("://") + 3);
    std::string host(url.substr(0, url.find('/')));
    auto path = UrlDecode(url.substr(url.find('/')), false);
    ASSERT_TRUE(path.ok());
    HttpRequestToSign to_sign{"POST", host, *path, {}, {}, Sha256Hex(request.body)};
    to_sign.headers.emplace_back("Content-Type", request.Header("Content-Type"));
    if (!request.Header("X-Amz-Target").empty()) {
      to_sign.headers.emplace_back("X-Amz-Target", request.Header("X-Amz-Target"));
    }
    SigV4Signer signer;
    SignedRequest expected = signer.Sign(to_sign, credentials_.GetCredentials().value(),
                                         {std::string(region), "sqs", clock_.Now()});
    EXPECT_NE(authorization.find("Signature=" + expected.signature), std::string::npos)
        << "signature does not match the request as sent: " << authorization;
  }

  std::mutex mu_;
  std::vector<SeenRequest> seen_;
  std::vector<Result<HttpResponse>> replies_;
  FakeClock clock_;  // 2023-11-14T22:13:20Z
  StaticCredentialsProvider credentials_{Credentials{"AKIDSQS", kSecret, kToken, std::nullopt}};
};

TEST_F(SqsClientTest, ReceiveSpeaksSignedJson) {
  auto client = Client();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->region(), "eu-west-1");
  EXPECT_EQ(client->protocol(), SqsProtocol::kAuto);
  ReplyJson(200, kJsonMessages);
  auto messages = client->ReceiveMessages();
  ASSERT_TRUE(messages.ok()) << messages.error().ToString();
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_EQ((*messages)[0].message_id, "m-1");
  EXPECT_EQ((*messages)[0].receipt_handle, "rh-1");
  EXPECT_EQ((*messages)[0].body, R"({"Records": []})");
  EXPECT_EQ((*messages)[1].body, "second <&>");
  EXPECT_EQ(client->protocol(), SqsProtocol::kJson);

  ASSERT_EQ(seen_.size(), 1u);
  const SeenRequest& request = seen_[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://sqs.eu-west-1.amazonaws.com/");
  EXPECT_EQ(request.Header("Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(request.Header("X-Amz-Target"), "AmazonSQS.ReceiveMessage");
  EXPECT_NE(request.Header("Authorization")
                .find("SignedHeaders=content-type;host;x-amz-date;"
                      "x-amz-security-token;x-amz-target"),
            std::string::npos)
      << request.Header("Authorization");
  ExpectSigned(request, "eu-west-1");
  json body = json::parse(request.body);
  EXPECT_EQ(body["QueueUrl"], kQueueUrl);
  EXPECT_EQ(body["MaxNumberOfMessages"], 10);
  EXPECT_EQ(body["WaitTimeSeconds"], 20);
}

TEST_F(SqsClientTest, EmptyJsonPollIsNoMessages) {
  auto client = Client();
  ReplyJson(200, "{}");
  auto messages = client->ReceiveMessages(3, std::chrono::seconds(0));
  ASSERT_TRUE(messages.ok()) << messages.error().ToString();
  EXPECT_TRUE(messages->empty());
  json body = json::parse(seen_.at(0).body);
  EXPECT_EQ(body["MaxNumberOfMessages"], 3);
  EXPECT_EQ(body["WaitTimeSeconds"], 0);
}

TEST_F(SqsClientTest, FallsBackToQueryAndRemembersIt) {
  auto client = Client({.queue_url = "http://127.0.0.1:9324/000000000000/my-queue"});
  EXPECT_EQ(client->region(), "us-east-1");
  Reply(500, kHtml500, "text/html; charset=utf-8");
  ReplyXml(200, kXmlMessages);
  auto messages = client->ReceiveMessages();
  ASSERT_TRUE(messages.ok()) << messages.error().ToString();
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].message_id, "m-9");
  EXPECT_EQ((*messages)[0].receipt_handle, "rh-9");
  EXPECT_EQ((*messages)[0].body, R"({"Records": ["<&>"]})") << "XML entities decoded";
  EXPECT_EQ(client->protocol(), SqsProtocol::kQuery);
  ASSERT_EQ(seen_.size(), 2u);
  EXPECT_EQ(seen_[0].url, "http://127.0.0.1:9324/");
  const SeenRequest& query = seen_[1];
  EXPECT_EQ(query.url, "http://127.0.0.1:9324/000000000000/my-queue");
  EXPECT_EQ(query.Header("Content-Type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(query.Header("X-Amz-Target"), "");
  EXPECT_EQ(query.body,
            "Action=ReceiveMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2F127.0.0.1%3A9324%2F"
            "000000000000%2Fmy-queue&MaxNumberOfMessages=10&WaitTimeSeconds=20");
  ExpectSigned(query, "us-east-1");

  // The next call goes straight to the query protocol.
  ReplyXml(200, kXmlEmpty);
  auto again = client->ReceiveMessages();
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_TRUE(again->empty());
  ASSERT_EQ(seen_.size(), 3u);
  EXPECT_EQ(seen_[2].url, "http://127.0.0.1:9324/000000000000/my-queue");
}

TEST_F(SqsClientTest, XmlUnknownActionToJsonFallsBack) {
  auto client = Client();
  ReplyXml(400, XmlError("InvalidAction", "The action or operation requested is invalid."));
  ReplyXml(200, kXmlEmpty);
  auto messages = client->ReceiveMessages();
  ASSERT_TRUE(messages.ok()) << messages.error().ToString();
  EXPECT_EQ(seen_.size(), 2u);
  EXPECT_EQ(client->protocol(), SqsProtocol::kQuery);
}

TEST_F(SqsClientTest, XmlAuthErrorToJsonDoesNotFallBack) {
  auto client = Client();
  // moto answers a failed signature check in XML even to a JSON request.
  ReplyXml(403,
           "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>The "
           "security token included in the request is invalid.</Message></Error></Errors>"
           "</ErrorResponse>");
  auto messages = client->ReceiveMessages();
  ASSERT_FALSE(messages.ok());
  EXPECT_EQ(messages.error().code, ErrorCode::kInvalidAccessKeyId);
  EXPECT_EQ(messages.error().s3_code, "InvalidClientTokenId");
  EXPECT_EQ(messages.error().http_status, 403);
  EXPECT_EQ(messages.error().message,
            std::string("SQS ReceiveMessage on ") + kQueueUrl +
                " failed: InvalidClientTokenId: The security token included in the request is "
                "invalid.");
  EXPECT_EQ(seen_.size(), 1u);
  EXPECT_EQ(client->protocol(), SqsProtocol::kAuto) << "nothing learned about the protocol";
}

TEST_F(SqsClientTest, JsonErrorsAreMappedAndNameTheQueue) {
  struct Case {
    long status;
    const char* type;
    ErrorCode kind;
    const char* code;
  };
  for (Case c :
       {Case{400, "com.amazonaws.sqs#QueueDoesNotExist", ErrorCode::kNotFound, "QueueDoesNotExist"},
        Case{400, "com.amazonaws.sqs#AccessDeniedException", ErrorCode::kAccessDenied,
             "AccessDeniedException"},
        Case{400, "com.amazon.coral.service#ExpiredTokenException", ErrorCode::kExpiredToken,
             "ExpiredTokenException"},
        Case{400, "ThrottlingException", ErrorCode::kSlowDown, "ThrottlingException"},
        Case{400, "com.amazonaws.sqs#RequestThrottled", ErrorCode::kSlowDown, "RequestThrottled"},
        Case{400, "com.amazonaws.sqs#InvalidParameterValue", ErrorCode::kBadRequest,
             "InvalidParameterValue"},
        Case{500, "InternalFailure", ErrorCode::kInternalError, "InternalFailure"},
        Case{503, "com.amazonaws.sqs#Whatever", ErrorCode::kServiceUnavailable, "Whatever"}}) {
    seen_.clear();
    auto client = Client();
    ReplyJson(c.status,
              std::string(R"({"__type": ")") + c.type + R"(", "message": "it went wrong"})");
    auto messages = client->ReceiveMessages();
    ASSERT_FALSE(messages.ok()) << c.type;
    EXPECT_EQ(messages.error().code, c.kind) << c.type << ": " << messages.error().ToString();
    EXPECT_EQ(messages.error().s3_code, c.code);
    EXPECT_EQ(messages.error().message, std::string("SQS ReceiveMessage on ") + kQueueUrl +
                                            " failed: " + c.code + ": it went wrong");
    EXPECT_EQ(seen_.size(), 1u) << "a JSON error is not retried in the query protocol";
    EXPECT_EQ(client->protocol(), SqsProtocol::kJson) << "a JSON error shows JSON is spoken";
  }
}

TEST_F(SqsClientTest, QueryErrorsAreMapped) {
  auto client = Client({.queue_url = kQueueUrl, .protocol = SqsProtocol::kQuery});
  ReplyXml(400, R"(<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>)"
                "<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>"
                "<Message>The specified queue does not exist for this wsdl version.</Message>"
                "<message>The specified queue does not exist.</message></Error>"
                "<RequestId>r</RequestId></ErrorResponse>");
  auto messages = client->ReceiveMessages();
  ASSERT_FALSE(messages.ok());
  EXPECT_EQ(messages.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(messages.error().s3_code, "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_NE(messages.error().message.find(kQueueUrl), std::string::npos);
  EXPECT_NE(messages.error().message.find("does not exist"), std::string::npos);
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].url, kQueueUrl) << "query protocol only";

  ReplyXml(403, XmlError("AccessDenied", "Access to the resource is denied."));
  auto denied = client->ReceiveMessages();
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code, ErrorCode::kAccessDenied);
}

TEST_F(SqsClientTest, NeitherProtocolIsAClearError) {
  auto client = Client();
  Reply(404, "not here", "text/plain");
  Reply(404, "not here either", "text/plain");
  auto messages = client->ReceiveMessages();
  ASSERT_FALSE(messages.ok());
  EXPECT_EQ(messages.error().code, ErrorCode::kInvalidResponse);
  EXPECT_NE(messages.error().message.find("neither the JSON protocol (HTTP 404 (text/plain"),
            std::string::npos)
      << messages.error().message;
  EXPECT_EQ(client->protocol(), SqsProtocol::kAuto);
}

TEST_F(SqsClientTest, ForcedJsonDoesNotFallBack) {
  auto client = Client({.queue_url = kQueueUrl, .protocol = SqsProtocol::kJson});
  Reply(500, kHtml500, "text/html");
  auto messages = client->ReceiveMessages();
  ASSERT_FALSE(messages.ok());
  EXPECT_EQ(messages.error().code, ErrorCode::kInvalidResponse);
  EXPECT_NE(messages.error().message.find("not JSON"), std::string::npos);
  EXPECT_EQ(seen_.size(), 1u);
}

TEST_F(SqsClientTest, MalformedSuccessReplies) {
  auto client = Client();
  ReplyJson(200, R"({"Messages": [{"MessageId": "m"}]})");
  auto messages = client->ReceiveMessages();
  ASSERT_FALSE(messages.ok());
  EXPECT_EQ(messages.error().code, ErrorCode::kInvalidResponse);
  ReplyJson(200, R"({"Messages": 5})");
  EXPECT_FALSE(client->ReceiveMessages().ok());
  ReplyJson(400, R"({"no": "type"})");
  auto odd = client->ReceiveMessages();
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error().code, ErrorCode::kBadRequest);
}

TEST_F(SqsClientTest, TransportAndCredentialErrorsKeepTheirKind) {
  auto client = Client();
  replies_.emplace_back(MakeError(ErrorCode::kTimeout, "operation timed out after 30000 ms"));
  auto messages = client->ReceiveMessages();
  ASSERT_FALSE(messages.ok());
  EXPECT_EQ(messages.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(messages.error().message, std::string("SQS ReceiveMessage on ") + kQueueUrl +
                                          " failed: operation timed out after 30000 ms");

  class NoCredentials : public CredentialsProvider {
    Result<Credentials> GetCredentials() override {
      return MakeError(ErrorCode::kCredentials, "no credentials in the chain");
    }
  } none;
  auto unsigned_client = SqsClient::Create(Fetch(), none, clock_, {.queue_url = kQueueUrl});
  ASSERT_TRUE(unsigned_client.ok());
  auto failed = (*unsigned_client)->ReceiveMessages();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kCredentials);
  EXPECT_NE(failed.error().message.find("no credentials in the chain"), std::string::npos);
  EXPECT_EQ(seen_.size(), 1u) << "nothing sent without credentials";
}

TEST_F(SqsClientTest, NoSecretInErrors) {
  auto client = Client();
  ReplyJson(400, std::string(R"({"__type": "SignatureDoesNotMatch", "message": "secret )") +
                     kSecret + " token " + kToken + R"("})");
  auto messages = client->ReceiveMessages();
  ASSERT_FALSE(messages.ok());
  EXPECT_EQ(messages.error().code, ErrorCode::kSignatureDoesNotMatch);
  EXPECT_EQ(messages.error().ToString().find(kSecret), std::string::npos);
  EXPECT_EQ(messages.error().ToString().find(kToken), std::string::npos);
}

TEST_F(SqsClientTest, ArgumentsAreChecked) {
  auto client = Client();
  for (int bad : {0, 11, -1}) {
    auto messages = client->ReceiveMessages(bad);
    ASSERT_FALSE(messages.ok());
    EXPECT_EQ(messages.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(client->ReceiveMessages(10, std::chrono::seconds(21)).ok());
  EXPECT_FALSE(client->ReceiveMessages(10, std::chrono::seconds(-1)).ok());
  EXPECT_FALSE(client->DeleteMessageBatch({}).ok());
  std::vector<SqsDeleteEntry> eleven(11, SqsDeleteEntry{"x", "rh"});
  for (size_t i = 0; i < eleven.size(); ++i) eleven[i].id = std::to_string(i);
  EXPECT_FALSE(client->DeleteMessageBatch(eleven).ok());
  EXPECT_FALSE(client->DeleteMessageBatch({{"a", "rh"}, {"a", "rh2"}}).ok()) << "duplicate id";
  EXPECT_FALSE(client->DeleteMessageBatch({{"a b", "rh"}}).ok());
  EXPECT_FALSE(client->DeleteMessageBatch({{"", "rh"}}).ok());
  EXPECT_FALSE(client->DeleteMessageBatch({{"a", ""}}).ok());
  EXPECT_TRUE(seen_.empty()) << "nothing sent for invalid arguments";
}

TEST_F(SqsClientTest, DeleteBatchJsonReportsPerEntryFailures) {
  auto client = Client();
  ReplyJson(200, R"({"Successful": [{"Id": "0"}], "Failed": [{"Id": "1", "SenderFault": true,)"
                 R"( "Code": "ReceiptHandleIsInvalid", "Message": "bad handle"}]})");
  auto result = client->DeleteMessageBatch(
      SqsDeleteEntriesFor({{"m-1", "rh-1", "b"}, {"m-2", "rh/2+=", "b"}}));
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->successful, std::vector<std::string>{"0"});
  ASSERT_EQ(result->failed.size(), 1u);
  EXPECT_EQ(result->failed[0].id, "1");
  EXPECT_EQ(result->failed[0].code, "ReceiptHandleIsInvalid");
  EXPECT_EQ(result->failed[0].message, "bad handle");
  EXPECT_TRUE(result->failed[0].sender_fault);
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].Header("X-Amz-Target"), "AmazonSQS.DeleteMessageBatch");
  ExpectSigned(seen_[0], "eu-west-1");
  json body = json::parse(seen_[0].body);
  EXPECT_EQ(body["QueueUrl"], kQueueUrl);
  EXPECT_EQ(body["Entries"], json::parse(R"([{"Id":"0","ReceiptHandle":"rh-1"},)"
                                         R"({"Id":"1","ReceiptHandle":"rh/2+="}])"));
}

TEST_F(SqsClientTest, DeleteBatchQuery) {
  auto client = Client({.queue_url = kQueueUrl, .protocol = SqsProtocol::kQuery});
  ReplyXml(200,
           R"(<DeleteMessageBatchResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">)"
           "<DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>a</Id>"
           "</DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>b</Id><SenderFault>true"
           "</SenderFault><Code>ReceiptHandleIsInvalid</Code><Message>The input receipt handle "
           "&quot;bogus&quot; is not a valid receipt handle.</Message></BatchResultErrorEntry>"
           "</DeleteMessageBatchResult><ResponseMetadata><RequestId>r</RequestId>"
           "</ResponseMetadata></DeleteMessageBatchResponse>");
  auto result = client->DeleteMessageBatch({{"a", "rh 1"}, {"b", "bogus"}});
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(result->successful, std::vector<std::string>{"a"});
  ASSERT_EQ(result->failed.size(), 1u);
  EXPECT_EQ(result->failed[0].id, "b");
  EXPECT_EQ(result->failed[0].code, "ReceiptHandleIsInvalid");
  EXPECT_EQ(result->failed[0].message,
            "The input receipt handle \"bogus\" is not a valid receipt handle.");
  EXPECT_TRUE(result->failed[0].sender_fault);
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0].url, kQueueUrl);
  EXPECT_EQ(seen_[0].body,
            "Action=DeleteMessageBatch&Version=2012-11-05&QueueUrl=https%3A%2F%2Fsqs.eu-west-1."
            "amazonaws.com%2F123456789012%2Fevents&DeleteMessageBatchRequestEntry.1.Id=a&"
            "DeleteMessageBatchRequestEntry.1.ReceiptHandle=rh%201&"
            "DeleteMessageBatchRequestEntry.2.Id=b&DeleteMessageBatchRequestEntry.2."
            "ReceiptHandle=bogus");
  ExpectSigned(seen_[0], "eu-west-1");
}

TEST_F(SqsClientTest, RegionOptionWinsAndDefaultPortIsDropped) {
  auto client =
      Client({.queue_url = "https://sqs.us-west-2.amazonaws.com:443/1/q", .region = "ap-south-1"});
  EXPECT_EQ(client->region(), "ap-south-1");
  ReplyJson(200, "{}");
  ASSERT_TRUE(client->ReceiveMessages().ok());
  EXPECT_EQ(seen_.at(0).url, "https://sqs.us-west-2.amazonaws.com/");
  ExpectSigned(seen_[0], "ap-south-1");
}

TEST(SqsQueueUrlTest, Validation) {
  for (const char* good :
       {"https://sqs.us-east-1.amazonaws.com/123456789012/my-queue",
        "http://127.0.0.1:5000/123456789012/q_1", "https://sqs.eu-west-1.amazonaws.com/1/q.fifo",
        "HTTPS://SQS.US-EAST-1.AMAZONAWS.COM/123456789012/Q"}) {
    Status status = ValidateSqsQueueUrl(good);
    EXPECT_TRUE(status.ok()) << good << ": " << status.error().ToString();
  }
  struct Case {
    const char* url;
    const char* why;
  };
  for (Case c :
       {Case{"", "empty"}, Case{"sqs.us-east-1.amazonaws.com/1/q", "no scheme"},
        Case{"ftp://host/1/q", "not http(s)"}, Case{"https:///1/q", "no host"},
        Case{"https://host", "/ACCOUNT/QUEUE_NAME"}, Case{"https://host/1", "/ACCOUNT/QUEUE_NAME"},
        Case{"https://host/1/q/extra", "/ACCOUNT/QUEUE_NAME"}, Case{"https://host//q", "account"},
        Case{"https://host/1/", "queue name"}, Case{"https://host/1/q?x=1", "query"},
        Case{"https://host/1/my queue", "space"}, Case{"https://host/1/q%20x", "queue name"},
        Case{"https://host/1/q\xc3\xa9", "non-ASCII"},
        Case{"https://host/1/"
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
             "queue name"}}) {
    Status status = ValidateSqsQueueUrl(c.url);
    ASSERT_FALSE(status.ok()) << c.url;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(status.error().message.find(c.why), std::string::npos)
        << c.url << ": " << status.error().message;
  }
  Status with_password = ValidateSqsQueueUrl("https://user:hunter22@host/1/q");
  ASSERT_FALSE(with_password.ok());
  EXPECT_EQ(with_password.error().message.find("hunter22"), std::string::npos)
      << with_password.error().message;
  auto client = [] {
    FakeClock clock;
    StaticCredentialsProvider credentials(Credentials{});
    return SqsClient::Create(
        [](const HttpRequest&) -> Result<HttpResponse> {
          return MakeError(ErrorCode::kNetwork, "unused");
        },
        credentials, clock, {.queue_url = "https://host/q"});
  }();
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, ErrorCode::kInvalidArgument);
}

TEST(SqsQueueUrlTest, RegionFromHost) {
  EXPECT_EQ(SqsRegionFromQueueUrl("https://sqs.eu-west-1.amazonaws.com/1/q"), "eu-west-1");
  EXPECT_EQ(SqsRegionFromQueueUrl("https://sqs.cn-north-1.amazonaws.com.cn/1/q"), "cn-north-1");
  EXPECT_EQ(SqsRegionFromQueueUrl("https://us-west-2.queue.amazonaws.com/1/q"), "us-west-2");
  EXPECT_EQ(SqsRegionFromQueueUrl("https://queue.amazonaws.com/1/q"), "us-east-1");
  EXPECT_EQ(SqsRegionFromQueueUrl("https://sqs-fips.us-gov-west-1.amazonaws.com/1/q"),
            "us-gov-west-1");
  EXPECT_EQ(
      SqsRegionFromQueueUrl("https://vpce-0123-abcd.sqs.ap-southeast-2.vpce.amazonaws.com/1/q"),
      "ap-southeast-2");
  EXPECT_EQ(SqsRegionFromQueueUrl("https://SQS.EU-CENTRAL-1.AMAZONAWS.COM:443/1/q"),
            "eu-central-1");
  EXPECT_EQ(SqsRegionFromQueueUrl("http://127.0.0.1:5000/123456789012/q"), "");
  EXPECT_EQ(SqsRegionFromQueueUrl("http://localhost:9324/queue/q"), "");
  EXPECT_EQ(SqsRegionFromQueueUrl("not a url"), "");
}

TEST(SqsProtocolTest, Names) {
  EXPECT_EQ(SqsProtocolName(SqsProtocol::kAuto), "auto");
  EXPECT_EQ(SqsProtocolName(SqsProtocol::kJson), "json");
  EXPECT_EQ(SqsProtocolName(SqsProtocol::kQuery), "query");
}

}  // namespace
}  // namespace s3mount
