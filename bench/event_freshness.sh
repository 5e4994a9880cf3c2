#!/usr/bin/env bash
# Freshness benchmark: how soon a mount shows an object that another client overwrote through the
# S3 API. On one moto_server (the only local server here that delivers S3 event notifications to
# SQS), with a bucket whose notifications go to an SQS queue, for each system in turn on its own
# fresh mount: every file is read once through the mount (so it is cached), then each of N objects
# is overwritten with a PUT (one after another) and polled through the mount (open + read, at
# most every 10 ms a file) until it shows the new bytes. Latency: from that object's PUT
# returning to the first read showing the new bytes; after --cap seconds it counts as not visible.
# Systems: s3mount with the SQS listener (-o sqs_queue_url=, metadata TTLs 3600 s), s3mount
# without (stat_ttl=60, list_ttl=60, negative_ttl=5), s3fs and rclone mount (their defaults).
# Prints median, p95, max and the count not visible per system, and the ratios of s3mount with
# the listener to each other system.
#
#   bench/event_freshness.sh [--quick] [--changes N] [--cap SECONDS] [--size BYTES] [--grow BYTES]
#       [--systems s3mount-sqs,s3mount,s3fs,rclone] [--json PATH] [--build DIR]
#       [--keep-logs DIR] [--s3mount-opts OPT,OPT]
#   --quick: --changes 10 --cap 20. Defaults: 100 changes, cap 120 s, objects of 256 bytes that
#   keep their size (--grow B: each system's overwrite makes them B bytes longer than before).
#   s3mount is $S3MOUNT if set, else DIR/s3mount (--build, default build).
# Needs root (or FUSE access), python3 with moto and boto3, s3fs and rclone (apt).
set -euo pipefail
cd "$(dirname "$0")/.."

changes=100 cap=120 size=256 systems=s3mount-sqs,s3mount,s3fs,rclone json="" build=build
keep_logs="" interval=0.01 threads=8 grow=0 s3mount_opts=""
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --quick) changes=10 cap=20; shift ;;
    --changes) changes=$2; shift 2 ;;
    --cap) cap=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --grow) grow=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --keep-logs) keep_logs=$2; shift 2 ;;
    --s3mount-opts) s3mount_opts=",$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $changes =~ ^[1-9][0-9]*$ && $changes -le 1000 ]] || { echo "--changes: 1..1000" >&2; exit 2; }
[[ $cap =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "--cap: seconds" >&2; exit 2; }
[[ $size =~ ^[0-9]+$ && $size -ge 32 ]] || { echo "--size: at least 32 bytes" >&2; exit 2; }
[[ $grow =~ ^[0-9]+$ ]] || { echo "--grow: bytes" >&2; exit 2; }
s3mount_bin=${S3MOUNT:-$build/s3mount}
IFS=, read -r -a system_list <<<"$systems"
for s in "${system_list[@]}"; do
  case "$s" in
    s3mount-sqs | s3mount) [[ -x $s3mount_bin ]] ||
      { echo "no $s3mount_bin: build it (ninja -C build s3mount) or set S3MOUNT / --build" >&2; exit 2; } ;;
    s3fs | rclone) command -v "$s" >/dev/null || { echo "$s not installed (apt)" >&2; exit 2; } ;;
    *) echo "unknown system $s" >&2; exit 2 ;;
  esac
done
s3mount_bin=$(realpath "$s3mount_bin" 2>/dev/null || echo "$s3mount_bin")
python3 -c 'import moto, boto3' 2>/dev/null || { echo "needs python3 with moto and boto3" >&2; exit 2; }

work=$(mktemp -d /tmp/s3mount-freshness.XXXXXX)
server_pid="" fs_pid="" fs_mnt="" bg_pid="" dog_pid=""
is_mounted() { awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo; }
unmount_now() { # mountpoint; lazily if busy (umount -c: no stat of a possibly hung mount)
  is_mounted "$1" || return 0
  umount --no-canonicalize "$1" 2>/dev/null || umount -l --no-canonicalize "$1" 2>/dev/null ||
    timeout -k 1 10 fusermount3 -u -z "$1"
}
stop_pid() { # pid: TERM, up to 5 s, then KILL
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
cleanup() {
  local rc=$?
  set +e
  trap - INT TERM
  [[ -n $fs_mnt ]] && unmount_now "$fs_mnt" # first: a probe still reading it fails at once
  [[ -n $fs_pid ]] && stop_pid "$fs_pid"
  [[ -n $bg_pid ]] && stop_pid "$bg_pid"
  [[ -n $dog_pid ]] && stop_pid "$dog_pid"
  [[ -n $server_pid ]] && stop_pid "$server_pid"
  if [[ -n $keep_logs ]]; then mkdir -p "$keep_logs" && cp "$work"/*.log "$keep_logs"/ 2>/dev/null; fi
  if [[ -n $fs_mnt ]] && is_mounted "$fs_mnt"; then
    echo "warning: $fs_mnt is still mounted; left $work in place" >&2
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Long steps run in the background and are waited for, so that a signal is handled at once
# (bash defers its traps while a foreground child runs).
run_bg() {
  "$@" &
  bg_pid=$!
  local rc=0
  wait "$bg_pid" || rc=$?
  bg_pid=""
  return "$rc"
}

# --- the server, the bucket, the queue and the objects -------------------------------------------
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_SESSION_TOKEN AWS_PROFILE
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
bucket=fresh
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do curl -sf "$endpoint/moto-api/" >/dev/null && break; sleep 0.1; done
curl -sf "$endpoint/moto-api/" >/dev/null || { echo "moto did not start:" >&2; tail "$work/server.log" >&2; exit 1; }
run_bg python3 bench/freshness_probe.py setup "$endpoint" "$bucket" fresh-events "$changes" "$size" \
  >"$work/queue_url" || { echo "setting up the bucket failed" >&2; exit 1; }
queue_url=$(<"$work/queue_url")
[[ $queue_url == http* ]] || { echo "setting up the bucket failed" >&2; exit 1; }

# --- mounting ----------------------------------------------------------------------------------
printf '%s:%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$work/passwd"
chmod 600 "$work/passwd"
: >"$work/rclone.conf"
mount_system() { # system mountpoint: starts it in the foreground mode in the background
  local system=$1 mnt=$2 log="$work/$1.log"
  case "$system" in
    s3mount-sqs)
      "$s3mount_bin" "$bucket" "$mnt" -f -o "endpoint=$endpoint,ro,sqs_queue_url=$queue_url$s3mount_opts" >>"$log" 2>&1 & ;;
    s3mount)
      "$s3mount_bin" "$bucket" "$mnt" -f -o "endpoint=$endpoint,ro$s3mount_opts" >>"$log" 2>&1 & ;;
    s3fs)
      s3fs "$bucket" "$mnt" -f -o "url=$endpoint,use_path_request_style,passwd_file=$work/passwd" \
        -o endpoint=us-east-1,ro >>"$log" 2>&1 & ;;
    rclone) # rclone 1.60 fails to start with AWS_CA_BUNDLE set
      env -u AWS_CA_BUNDLE RCLONE_CONFIG="$work/rclone.conf" rclone mount ":s3:$bucket" "$mnt" \
        --s3-provider Other --s3-endpoint "$endpoint" --s3-force-path-style \
        --s3-access-key-id "$AWS_ACCESS_KEY_ID" --s3-secret-access-key "$AWS_SECRET_ACCESS_KEY" \
        --read-only --vfs-cache-mode off >>"$log" 2>&1 & ;;
  esac
  fs_pid=$! fs_mnt=$mnt
  for _ in $(seq 300); do
    is_mounted "$mnt" && return 0
    kill -0 "$fs_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$system did not mount; its log:" >&2
  tail -20 "$log" >&2
  return 1
}
unmount_system() { # unmount, give the daemon 10 s to exit by itself, then stop it
  unmount_now "$fs_mnt"
  for _ in $(seq 100); do kill -0 "$fs_pid" 2>/dev/null || break; sleep 0.1; done
  stop_pid "$fs_pid"
  fs_pid="" fs_mnt=""
}
# The probe runs watched: a read waiting on a FUSE daemon that stopped answering cannot be
# killed, so if the probe still runs long after every file's cap passed, the daemon is killed.
run_watched() {
  local rc=0 first="" limit
  limit=$(awk -v c="$cap" -v n="$changes" 'BEGIN { printf "%d", c + 60 + n * 0.5 }')
  "$@" &
  bg_pid=$!
  sleep "$limit" &
  dog_pid=$!
  wait -n -p first "$bg_pid" "$dog_pid" || rc=$?
  if [[ $first == "$dog_pid" ]]; then
    echo "the probe still runs after $limit s; killing the mount's daemon" >&2
    kill -KILL "$fs_pid" 2>/dev/null || true
    rc=1
    wait "$bg_pid" || true
  else
    stop_pid "$dog_pid"
  fi
  bg_pid="" dog_pid=""
  return "$rc"
}

failed=0 gen=0 pairs=()
for system in "${system_list[@]}"; do
  gen=$((gen + 1))
  mkdir -p "$work/mnt-$system"
  echo "[$(date +%T)] $system: $changes changes, cap $cap s" >&2
  ok=0
  if mount_system "$system" "$work/mnt-$system"; then
    run_watched python3 bench/freshness_probe.py measure "$endpoint" "$bucket" \
      "$work/mnt-$system" "$work/$system.json" --count "$changes" --size "$size" --gen "$gen" \
      --cap "$cap" --interval "$interval" --threads "$threads" --grow "$grow" && ok=1
  fi
  if ((!ok)); then
    echo "$system FAILED; last lines of its log:" >&2
    tail -20 "$work/$system.log" >&2
    rm -f "$work/$system.json"
    failed=1
  fi
  [[ -n $fs_pid ]] && unmount_system
  pairs+=("$system=$work/$system.json")
done

# --- the report --------------------------------------------------------------------------------
echo
echo "freshness benchmark on moto_server $(python3 -c 'import moto; print(moto.__version__)')" \
  "at $endpoint; $(nproc) cores, $(uname -r)"
sizes="of $size bytes"
((grow)) && sizes="of $size bytes, each overwrite $grow bytes longer than the last"
echo "$changes objects $sizes overwritten by PUTs one after another; each polled through" \
  "the mount (open + read, every ${interval#0}s at most, $threads threads) until it shows the new bytes;" \
  "cap $cap s"
uses() { [[ ",$systems," == *",$1,"* ]]; }
uses s3mount-sqs && echo "s3mount-sqs: -o ro,sqs_queue_url=URL (stat_ttl, list_ttl, negative_ttl 3600 s)$s3mount_opts"
uses s3mount && echo "s3mount: -o ro, no listener (stat_ttl=60, list_ttl=60, negative_ttl=5)$s3mount_opts"
uses s3fs && echo "s3fs $(s3fs --version 2>/dev/null | sed -n '1s/.*V\([0-9.]*\).*/\1/p'):" \
  "-o ro, defaults (no use_cache)"
uses rclone && echo "rclone $(rclone version 2>/dev/null | awk 'NR == 1 { print $2 }'):" \
  "--read-only --vfs-cache-mode off, defaults (dir-cache-time 5m, attr-timeout 1s)"
echo
python3 bench/freshness_probe.py report "${json:-$work/all.json}" "${pairs[@]}"
if ((failed)); then echo "some systems FAILED (see above)" >&2; exit 1; fi
