// Moto set-up through boto3: a queue for the bucket's notifications, an assumable role.
#include "tests/support/moto_setup.h"

#include <vector>

#include "s3mount/common/strings.h"
#include "tests/support/subprocess.h"

namespace s3mount::testing {
namespace {

// argv: endpoint bucket queue-name. Creates the queue, points the bucket's ObjectCreated and
// ObjectRemoved notifications at it, prints the queue URL.
constexpr char kRouteEventsScript[] = R"py(
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

// argv: endpoint role-name.
constexpr char kCreateRoleScript[] = R"py(
import json, sys, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1")
allow = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
trust = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                        "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]}]}
try:
    iam.create_role(RoleName=sys.argv[2], AssumeRolePolicyDocument=json.dumps(trust))
except iam.exceptions.EntityAlreadyExistsException:
    pass
iam.put_role_policy(RoleName=sys.argv[2], PolicyName="all", PolicyDocument=json.dumps(allow))
)py";

// Runs `script` with `args` under python3, signed with the server's keys; its stdout.
Result<std::string> RunBoto3(const MotoServer& server, const char* script,
                             const std::vector<std::string>& args, const std::string& what) {
  std::vector<std::string> argv = {"python3", "-c", script, server.endpoint()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto run = RunCommand({.argv = argv,
                         .env = {{"AWS_ACCESS_KEY_ID", server.access_key_id()},
                                 {"AWS_SECRET_ACCESS_KEY", server.secret_access_key()},
                                 {"AWS_SESSION_TOKEN", ""},
                                 {"AWS_CONFIG_FILE", "/dev/null"},
                                 {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}}});
  if (!run.ok()) return std::move(run).error();
  if (!run->ok()) {
    return MakeError(ErrorCode::kInternalError, what + " failed: " + run->Describe());
  }
  return std::string(TrimAsciiSpace(run->stdout_text));
}

}  // namespace

Result<std::string> RouteBucketEventsToNewQueue(const MotoServer& server, const std::string& bucket,
                                                const std::string& queue_name) {
  return RunBoto3(server, kRouteEventsScript, {bucket, queue_name},
                  "setting up the bucket's notifications");
}

Status CreateAllowAllRole(const MotoServer& server, const std::string& role_name) {
  auto created = RunBoto3(server, kCreateRoleScript, {role_name}, "creating role " + role_name);
  if (!created.ok()) return std::move(created).error();
  return OkStatus();
}

}  // namespace s3mount::testing
