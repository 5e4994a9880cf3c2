#!/usr/bin/env python3
"""Administers a local moto_server for the s3mount test harness (boto3, offline).

Independent of s3mount's own S3 client, so tests can set up state and cross-check results
with a second implementation.

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment (not the
command line, so they never show in process listings or logs), default "test"/"test".

Subcommands (all take --endpoint):
  create-bucket NAME              create a bucket
  create-iam-user [--user NAME]   create an IAM user with an allow-* inline policy and an
                                  access key; prints {"AccessKeyId":..,"SecretAccessKey":..}
  put-object BUCKET KEY           upload stdin (or --file PATH) as the object's body
  get-object BUCKET KEY           write the object's body to stdout (or --out PATH)
  list-uploads BUCKET             print the key of each multipart upload in progress, one per
                                  line (every page)

Exit status: 0 on success, 2 on an AWS error (stderr: "error: <Code>: <message>"),
1 on anything else. Secrets are never printed except create-iam-user's own output.
"""

import argparse
import json
import os
import sys

import boto3
import botocore.config
import botocore.exceptions

REGION = "us-east-1"
ALLOW_ALL_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
)


def make_client(args, service):
    config = botocore.config.Config(
        region_name=REGION,
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "test",
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "test",
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN") or None,
        region_name=REGION,
    )
    return session.client(service, endpoint_url=args.endpoint, config=config)


def create_bucket(args):
    make_client(args, "s3").create_bucket(Bucket=args.name)


def create_iam_user(args):
    iam = make_client(args, "iam")
    iam.create_user(UserName=args.user)
    iam.put_user_policy(
        UserName=args.user, PolicyName="allow-all", PolicyDocument=ALLOW_ALL_POLICY
    )
    key = iam.create_access_key(UserName=args.user)["AccessKey"]
    json.dump(
        {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]},
        sys.stdout,
    )
    sys.stdout.write("\n")


def put_object(args):
    if args.file:
        with open(args.file, "rb") as f:
            body = f.read()
    else:
        body = sys.stdin.buffer.read()
    make_client(args, "s3").put_object(Bucket=args.bucket, Key=args.key, Body=body)


def get_object(args):
    reply = make_client(args, "s3").get_object(Bucket=args.bucket, Key=args.key)
    body = reply["Body"].read()
    if args.out:
        with open(args.out, "wb") as f:
            f.write(body)
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()


def list_uploads(args):
    s3 = make_client(args, "s3")
    request = {"Bucket": args.bucket}
    while True:
        reply = s3.list_multipart_uploads(**request)
        for upload in reply.get("Uploads", []):
            print(upload["Key"])
        if not reply.get("IsTruncated"):
            return
        request["KeyMarker"] = reply["NextKeyMarker"]
        request["UploadIdMarker"] = reply["NextUploadIdMarker"]


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="http://127.0.0.1:PORT")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("create-bucket")
    p.add_argument("name")
    p.set_defaults(func=create_bucket)

    p = sub.add_parser("create-iam-user")
    p.add_argument("--user", default="s3mount-test")
    p.set_defaults(func=create_iam_user)

    p = sub.add_parser("put-object")
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("--file")
    p.set_defaults(func=put_object)

    p = sub.add_parser("get-object")
    p.add_argument("bucket")
    p.add_argument("key")
    p.add_argument("--out")
    p.set_defaults(func=get_object)

    p = sub.add_parser("list-uploads")
    p.add_argument("bucket")
    p.set_defaults(func=list_uploads)
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    try:
        args.func(args)
    except botocore.exceptions.ClientError as e:
        err = e.response.get("Error", {})
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        print(
            f"error: {err.get('Code', 'Unknown')}: {err.get('Message', '')} (HTTP {status})",
            file=sys.stderr,
        )
        return 2
    except (botocore.exceptions.BotoCoreError, OSError) as e:
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
