#!/usr/bin/env python3
"""Serves AWS credentials the way an ECS container endpoint, the EC2 instance metadata service
(IMDSv2 and v1) and the IAM Identity Center (SSO) portal do, for s3mount's integration tests.
The credentials are real temporary ones issued by a local moto_server's STS (AssumeRole with
the keys in this process's environment), so a moto with SigV4 enforcement accepts them.

Usage: credentials_responder.py --mode container|imds|sso --sts-endpoint URL
           [--role-arn ARN] [--duration SECONDS] [--expires-in SECONDS] [--token VALUE]
           [--port-file PATH] [--require-v2] [--log PATH]

It binds 127.0.0.1 on a free port and writes the port to --port-file (or stdout), then serves
until killed. Every request is appended to --log as one JSON line (method, path, the headers
that matter), so tests can check what the client sent. Keys for STS come from
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment, never the command line.

--expires-in SECONDS reports an expiry that many seconds after each reply instead of STS's own
(STS will not issue credentials shorter than 900 s), so a client's refresh of short-lived
credentials can be tested in real time; each request still gets fresh keys from STS.

Modes:
  container  GET any path: {"AccessKeyId","SecretAccessKey","Token","Expiration"}; with
             --token, the Authorization header must equal it (401 otherwise).
  imds       PUT /latest/api/token (needs x-aws-ec2-metadata-token-ttl-seconds) returns a
             token; GET /latest/meta-data/iam/security-credentials/ returns the role name;
             GET .../ROLE returns {"Code":"Success",...}. With --require-v2, GETs without a
             valid x-aws-ec2-metadata-token get 401.
  sso        GET /federation/credentials?account_id=..&role_name=.. with header
             x-amz-sso_bearer_token equal to --token returns {"roleCredentials":{...}} with
             expiration in epoch milliseconds; 401 otherwise.
"""

import argparse
import datetime
import http.server
import json
import secrets
import sys
import threading
import urllib.parse

import boto3

ROLE_NAME = "s3mount-test-role"


def assume_role(args):
    sts = boto3.client("sts", endpoint_url=args.sts_endpoint, region_name="us-east-1")
    reply = sts.assume_role(RoleArn=args.role_arn, RoleSessionName="responder",
                            DurationSeconds=args.duration)
    credentials = reply["Credentials"]
    if args.expires_in is not None:
        credentials["Expiration"] = (datetime.datetime.now(datetime.timezone.utc)
                                     + datetime.timedelta(seconds=args.expires_in))
    return credentials


def iso(expiration):
    if isinstance(expiration, datetime.datetime):
        return expiration.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(expiration)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "credentials-responder"
    imds_tokens = set()
    lock = threading.Lock()

    def log_message(self, fmt, *a):  # quiet; requests go to --log
        pass

    def record(self):
        if not self.server.args.log:
            return
        keep = {k.lower(): v for k, v in self.headers.items()
                if k.lower() in ("authorization", "x-aws-ec2-metadata-token",
                                 "x-aws-ec2-metadata-token-ttl-seconds", "x-amz-sso_bearer_token")}
        with Handler.lock, open(self.server.args.log, "a") as out:
            out.write(json.dumps({"method": self.command, "path": self.path, "headers": keep}) + "\n")

    def reply(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def credentials_json(self, extra=None):
        c = assume_role(self.server.args)
        body = {"AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
                "Token": c["SessionToken"], "Expiration": iso(c["Expiration"])}
        if extra:
            body.update(extra)
        return json.dumps(body)

    def do_PUT(self):
        self.record()
        args = self.server.args
        if args.mode == "imds" and self.path == "/latest/api/token":
            if not self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(400, "missing ttl", "text/plain")
            token = secrets.token_hex(16)
            Handler.imds_tokens.add(token)
            return self.reply(200, token, "text/plain")
        self.reply(404, "not found", "text/plain")

    def do_GET(self):
        self.record()
        args = self.server.args
        if args.mode == "container":
            if args.token and self.headers.get("Authorization") != args.token:
                return self.reply(401, '{"message":"bad token"}')
            return self.reply(200, self.credentials_json())
        if args.mode == "imds":
            token = self.headers.get("x-aws-ec2-metadata-token")
            if args.require_v2 and token not in Handler.imds_tokens:
                return self.reply(401, "", "text/plain")
            base = "/latest/meta-data/iam/security-credentials/"
            if self.path == base:
                return self.reply(200, ROLE_NAME, "text/plain")
            if self.path == base + ROLE_NAME:
                return self.reply(200, self.credentials_json(
                    {"Code": "Success", "Type": "AWS-HMAC",
                     "LastUpdated": iso(datetime.datetime.now(datetime.timezone.utc))}))
            return self.reply(404, "not found", "text/plain")
        if args.mode == "sso":
            url = urllib.parse.urlparse(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path != "/federation/credentials" or "account_id" not in query \
                    or "role_name" not in query:
                return self.reply(400, '{"message":"bad request"}')
            if self.headers.get("x-amz-sso_bearer_token") != args.token:
                return self.reply(401, '{"message":"Session token not found or invalid"}')
            c = assume_role(args)
            expiration = c["Expiration"]
            millis = int(expiration.timestamp() * 1000) if isinstance(
                expiration, datetime.datetime) else 0
            return self.reply(200, json.dumps({"roleCredentials": {
                "accessKeyId": c["AccessKeyId"], "secretAccessKey": c["SecretAccessKey"],
                "sessionToken": c["SessionToken"], "expiration": millis}}))
        self.reply(404, "not found", "text/plain")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["container", "imds", "sso"], required=True)
    parser.add_argument("--sts-endpoint", required=True)
    parser.add_argument("--role-arn", default="arn:aws:iam::123456789012:role/s3mount-test")
    parser.add_argument("--duration", type=int, default=900)
    parser.add_argument("--expires-in", type=int, default=None,
                        help="report an Expiration this many seconds from now")
    parser.add_argument("--token", default="")
    parser.add_argument("--port-file")
    parser.add_argument("--require-v2", action="store_true")
    parser.add_argument("--log")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.args = args
    port = str(server.server_address[1])
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as out:
            out.write(port)
        import os
        os.rename(args.port_file + ".tmp", args.port_file)
    else:
        print(port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
