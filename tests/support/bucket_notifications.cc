// RouteBucketEventsToNewQueue: a queue and a bucket notification configuration, via boto3.
#include "tests/support/bucket_notifications.h"

#include "s3mount/common/strings.h"
#include "tests/support/subprocess.h"

namespace s3mount::testing {
namespace {

// argv: endpoint bucket queue-name. Creates the queue, points the bucket's ObjectCreated and
// ObjectRemoved notifications at it, prints the queue URL.
constexpr char kSetUpScript[] = R"py(
import sys, boto3
from botocore.config import Config
endpoint, bucket, name = sys.argv[1:4]
kw = dict(endpoint_url=endpoint, region_name="us-east-1")
sqs = boto3.client("sqs", **kw)
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **kw)
url = sqs.create_queue(QueueName=name)["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
    "QueueConfigurations": [{"QueueArn": arn,
                             "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
print(url)
)py";

}  // namespace

Result<std::string> RouteBucketEventsToNewQueue(const MotoServer& server, const std::string& bucket,
                                                const std::string& queue_name) {
  auto run =
      RunCommand({.argv = {"python3", "-c", kSetUpScript, server.endpoint(), bucket, queue_name},
                  .env = {{"AWS_ACCESS_KEY_ID", server.access_key_id()},
                          {"AWS_SECRET_ACCESS_KEY", server.secret_access_key()},
                          {"AWS_SESSION_TOKEN", ""},
                          {"AWS_CONFIG_FILE", "/dev/null"},
                          {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}}});
  if (!run.ok()) return std::move(run).error();
  if (!run->ok()) {
    return MakeError(ErrorCode::kInternalError,
                     "setting up the bucket's notifications failed: " + run->Describe());
  }
  return std::string(TrimAsciiSpace(run->stdout_text));
}

}  // namespace s3mount::testing
