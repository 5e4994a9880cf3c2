#!/usr/bin/env bash
# The main job: sets up the machine, builds s3mount, starts a local S3 server (moto) on a free
# loopback port, fills a bucket through s3mount's S3 client (s3ctl), mounts the bucket with
# s3mount, reads and writes it with ordinary tools (ls, find, cat, md5sum, tar, cp -a, mv,
# ln -s, dd, rm -r), checks the written objects through the S3 API, shows another client's
# changes arriving through S3 event notifications (bucket -> SQS queue -> the mount's
# listener, with caches that would otherwise be trusted for an hour), then unmounts.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build s3ctl s3mount >/dev/null

work=$(mktemp -d)
mnt="$work/mnt"
mkdir "$mnt"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# moto's CRC32C checksums need a `crc32c` module: tests/tools/moto_crc32c provides one.
PYTHONPATH="$(dirname "$0")/../tests/tools/moto_crc32c${PYTHONPATH:+:$PYTHONPATH}" \
  python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
cleanup() {
  if mountpoint -q "$mnt"; then fusermount3 -u "$mnt" || fusermount3 -u -z "$mnt" || true; fi
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

endpoint="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$endpoint/moto-api/" >/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=demo-key AWS_SECRET_ACCESS_KEY=demo-secret AWS_REGION=us-east-1
s3ctl() { ./build/s3ctl --endpoint "$endpoint" "$@"; }
source scripts/show_command.sh
run() { printf '\n'; show_command "$@"; "$@"; }

echo "moto_server on $endpoint; creating bucket demo-bucket and putting objects with s3ctl"
curl -sf -X PUT "$endpoint/demo-bucket" >/dev/null
echo "hello from s3mount" | s3ctl demo-bucket put hello.txt - >/dev/null
head -c $((70 * 1024 * 1024)) /dev/urandom >"$work/seventy-mib"
s3ctl demo-bucket put "photos/2024/seventy-mib.bin" "$work/seventy-mib" >/dev/null
for i in $(seq 1 20); do echo "note $i" | s3ctl demo-bucket put "notes/note $i.txt" - >/dev/null; done
echo "creating SQS queue demo-events and sending the bucket's S3 event notifications to it"
queue=$(python3 - "$endpoint" <<'PY'
import sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1")
sqs, s3 = boto3.client("sqs", **kw), boto3.client("s3", **kw)
url = sqs.create_queue(QueueName="demo-events")["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
s3.put_bucket_notification_configuration(Bucket="demo-bucket", NotificationConfiguration={
    "QueueConfigurations": [{"QueueArn": arn,
                             "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
print(url)
PY
)

run ./build/s3mount demo-bucket "$mnt" -o "endpoint=$endpoint,sqs_queue_url=$queue"
run ls -l "$mnt"
run find "$mnt" -maxdepth 2
run cat "$mnt/hello.txt"
run du -sh --apparent-size "$mnt"
run md5sum "$mnt/photos/2024/seventy-mib.bin" "$work/seventy-mib"
cmp "$mnt/photos/2024/seventy-mib.bin" "$work/seventy-mib" && echo "70 MiB object read back byte for byte"
run tar cf "$work/notes.tar" -C "$mnt" notes
tar tf "$work/notes.tar" | sed -n 1,3p  # sed reads it all: no SIGPIPE for tar under pipefail
echo "--- writing through the mount"
run mkdir -p "$mnt/backup/notes"
run cp -a "$mnt/notes/." "$mnt/backup/notes/"
run tar xf "$work/notes.tar" -C "$mnt/backup"
echo "written through s3mount" > "$mnt/backup/readme.txt"
run chmod 640 "$mnt/backup/readme.txt"
run ln -s readme.txt "$mnt/backup/link"
run mv "$mnt/backup/notes" "$mnt/backup/notes-copy"
run dd if="$work/seventy-mib" of="$mnt/backup/big.bin" bs=1M status=none
run ls -l "$mnt/backup"
echo "--- the same objects through the S3 API"
run s3ctl demo-bucket ls backup/
run s3ctl demo-bucket head backup/readme.txt
cmp <(s3ctl demo-bucket get backup/big.bin -) "$work/seventy-mib" && echo "70 MiB written, in S3 byte for byte"
run rm -r "$mnt/backup"
echo "--- another client changes the bucket; its S3 events reach the mount through SQS"
echo "(the mount trusts its caches for an hour: only the events make it see the changes)"
echo "hello again, from another client" | s3ctl demo-bucket put hello.txt - >/dev/null
echo "made elsewhere" | s3ctl demo-bucket put "from elsewhere.txt" - >/dev/null
s3ctl demo-bucket rm "notes/note 20.txt" >/dev/null
sleep 1
run cat "$mnt/hello.txt"
run cat "$mnt/from elsewhere.txt"
run ls "$mnt/notes"
run fusermount3 -u "$mnt"
printf '\ndemo finished: bucket mounted, read and written with ordinary tools, kept fresh by S3\n'
printf 'event notifications, unmounted\n'
