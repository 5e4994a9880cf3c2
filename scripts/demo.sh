#!/usr/bin/env bash
# The main job, until the mount exists: sets up the machine, builds s3mount, starts a local
# S3 server (moto) on a free loopback port, creates a bucket, and puts, lists, reads, copies
# and deletes objects through s3mount's S3 client (the s3ctl tool), checking every byte.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build s3ctl >/dev/null

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
cleanup() { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

endpoint="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$endpoint/moto-api/" >/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=demo-key AWS_SECRET_ACCESS_KEY=demo-secret AWS_REGION=us-east-1
s3ctl() { ./build/s3ctl --endpoint "$endpoint" "$@"; }
show() { printf '\n$ s3ctl'; printf ' %q' "$@"; printf '\n'; s3ctl "$@"; }

echo "moto_server on $endpoint; creating bucket demo-bucket"
curl -sf -X PUT "$endpoint/demo-bucket" >/dev/null

echo "hello from s3mount" >"$work/hello.txt"
head -c $((6 * 1024 * 1024 + 1)) /dev/urandom >"$work/six-mib-plus-one"
head -c $((70 * 1024 * 1024)) /dev/urandom >"$work/seventy-mib"
show demo-bucket put hello.txt "$work/hello.txt"
show demo-bucket put "dir one/six-mib-plus-one" "$work/six-mib-plus-one"
show demo-bucket put "dir one/seventy-mib (multipart)" "$work/seventy-mib"
show demo-bucket ls
show demo-bucket ls "dir one/"
show demo-bucket get hello.txt
s3ctl demo-bucket get "dir one/seventy-mib (multipart)" "$work/back"
cmp "$work/seventy-mib" "$work/back" && echo "70 MiB multipart object read back byte for byte"
show demo-bucket head "dir one/six-mib-plus-one"
show demo-bucket cp hello.txt copy-of-hello.txt
show demo-bucket rm hello.txt copy-of-hello.txt
show demo-bucket ls -r
printf '\ndemo finished: every operation went through s3mount'"'"'s signed S3 client\n'
