#!/usr/bin/env bash
# Mount benchmark: s3mount side by side with s3fs and rclone mounts of the same bucket on the same
# local S3 server (s3rver from npm, or moto_server) in one run. Workloads, each on a fresh mount
# (cold caches) after dropping the kernel's page cache:
#   seq_read   cold sequential read of one large object (dd bs=1M), MiB/s
#   ls_cold    ls -l of a directory of many objects, seconds; ls_warm: the same again at once
#              (within every tool's cache TTL)
#   small_cat  cat over many small (4-16 KiB) files, files/s
# Prints each tool's figure and the ratio s3mount/peer, plus the server's own ceiling (curl).
#
#   bench/mount_vs_peers.sh [--quick] [--server s3rver|moto] [--size-mib N] [--dir-count N]
#       [--small-count N] [--tools s3mount,s3fs,rclone] [--build DIR] [--keep-logs DIR]
#       [--timeout S] [--s3mount-opts OPT,OPT]
# Needs a build of s3mount (cmake -S . -B build && ninja -C build s3mount), root (or FUSE access),
# curl, s3fs and rclone (apt), and for s3rver node + npm (s3rver@3.7.1 is installed on first use
# into ~/.cache/s3mount-bench, outside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."

server=s3rver size_mib=1024 dir_count=10000 small_count=1000 tools=s3mount,s3fs,rclone
build=build keep_logs="" timeout_s=900 s3mount_opts=""
usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --quick) size_mib=64 dir_count=1000 small_count=200; shift ;;
    --server) server=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --dir-count) dir_count=$2; shift 2 ;;
    --small-count) small_count=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --keep-logs) keep_logs=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --s3mount-opts) s3mount_opts=",$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $server == s3rver || $server == moto ]] || { echo "--server must be s3rver or moto" >&2; exit 2; }
IFS=, read -r -a tool_list <<<"$tools"
for t in "${tool_list[@]}"; do
  case "$t" in
    s3mount) [[ -x $build/s3mount ]] || { echo "build $build/s3mount first" >&2; exit 2; } ;;
    s3fs | rclone) command -v "$t" >/dev/null || { echo "$t not installed (apt)" >&2; exit 2; } ;;
    *) echo "unknown tool $t" >&2; exit 2 ;;
  esac
done
s3mount_bin=$(realpath "$build/s3mount" 2>/dev/null || true)

work=$(mktemp -d /tmp/s3mount-bench.XXXXXX)
data_dir="" server_pid="" fs_pid="" fs_mnt="" bg_pid=""
# Long steps run in the background and are waited for (run_bg), so that a signal is handled at
# once: bash defers its traps while a foreground child runs.
run_bg() {
  "$@" &
  bg_pid=$!
  local rc=0
  wait "$bg_pid" || rc=$?
  bg_pid=""
  return "$rc"
}
unmount_now() { # mountpoint; lazily if busy, so that nothing can hang on it
  mountpoint -q "$1" || return 0
  fusermount3 -u "$1" 2>/dev/null || fusermount -u "$1" 2>/dev/null || umount -l "$1"
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
  # Unmount and stop the file system first: a workload still reading it then fails at once.
  [[ -n $fs_mnt ]] && unmount_now "$fs_mnt"
  [[ -n $fs_pid ]] && stop_pid "$fs_pid"
  [[ -n $bg_pid ]] && stop_pid "$bg_pid"
  [[ -n $server_pid ]] && stop_pid "$server_pid"
  if [[ -n $keep_logs ]]; then mkdir -p "$keep_logs" && cp "$work"/*.log "$keep_logs"/ 2>/dev/null; fi
  [[ -n $data_dir ]] && rm -rf "$data_dir"
  if [[ -n $fs_mnt ]] && mountpoint -q "$fs_mnt"; then
    echo "warning: $fs_mnt is still mounted; left $work in place" >&2
  else
    rm -rf --one-file-system "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.6f", (b - a) / 1e9 }'; }
drop_caches() {
  sync
  if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
    [[ -e $work/no_drop ]] || echo "note: cannot drop the page cache (needs root)" >&2
    touch "$work/no_drop"
  fi
}

# --- the server --------------------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER # s3rver's fixed key; moto takes any
bucket=bench
if [[ $server == s3rver ]]; then
  s3rver_dir=${XDG_CACHE_HOME:-$HOME/.cache}/s3mount-bench/s3rver-3.7.1
  if [[ ! -x $s3rver_dir/node_modules/.bin/s3rver ]]; then
    echo "installing s3rver@3.7.1 into $s3rver_dir" >&2
    npm install --no-audit --no-fund --silent --prefix "$s3rver_dir" s3rver@3.7.1 >&2
  fi
  data_dir=$(mktemp -d /dev/shm/s3mount-bench.XXXXXX) # tmpfs: PUTs are ~4x faster than on disk
  NODE_OPTIONS=--openssl-legacy-provider "$s3rver_dir/node_modules/.bin/s3rver" -d "$data_dir" \
    -a 127.0.0.1 -p "$port" --silent --configure-bucket "$bucket" >"$work/server.log" 2>&1 &
  server_pid=$!
  ready_url="$endpoint/"
else
  python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/server.log" 2>&1 &
  server_pid=$!
  ready_url="$endpoint/moto-api/"
fi
for _ in $(seq 200); do curl -sf "$ready_url" >/dev/null && break; sleep 0.1; done
curl -sf "$ready_url" >/dev/null || { echo "$server did not start:" >&2; tail "$work/server.log" >&2; exit 1; }
[[ $server == moto ]] && curl -sf -X PUT "$endpoint/$bucket" >/dev/null

# --- the data: uploaded with curl in parallel (s3rver insists on x-amz-content-sha256) ---------
curl_s3=(-sf --no-progress-meter --aws-sigv4 "aws:amz:us-east-1:s3"
  --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD"
  -H "Expect:")
small_kib() { echo $((4 + ($1 * 7) % 13)); } # 4..16 KiB
t0=$(now)
head -c $((size_mib << 20)) /dev/urandom >"$work/large"
run_bg curl "${curl_s3[@]}" -T "$work/large" -o /dev/null "$endpoint/$bucket/large/object"
rm -f "$work/large"
head -c 100 /dev/urandom >"$work/entry"
for i in $(seq 0 $((dir_count - 1))); do
  printf 'url = "%s/%s/many/f%05d"\nupload-file = "%s"\noutput = "/dev/null"\n' \
    "$endpoint" "$bucket" "$i" "$work/entry"
done >"$work/put_many.cfg"
mkdir "$work/small"
for i in $(seq 0 $((small_count - 1))); do
  name=$(printf 's%05d' "$i")
  head -c $(($(small_kib "$i") << 10)) /dev/urandom >"$work/small/$name"
  printf 'url = "%s/%s/small/%s"\nupload-file = "%s"\noutput = "/dev/null"\n' \
    "$endpoint" "$bucket" "$name" "$work/small/$name"
done >"$work/put_small.cfg"
run_bg curl "${curl_s3[@]}" --parallel --parallel-max 8 -K "$work/put_many.cfg"
run_bg curl "${curl_s3[@]}" --parallel --parallel-max 8 -K "$work/put_small.cfg"
small_md5=$(cat "$work"/small/* | md5sum | cut -d' ' -f1)
small_bytes=$(cat "$work"/small/* | wc -c)
setup_s=$(since "$t0")

# The server's own ceiling: one GET of the large object, and a full LIST of the big directory.
t0=$(now); run_bg curl "${curl_s3[@]}" -o /dev/null "$endpoint/$bucket/large/object"
base_get=$(since "$t0")
t0=$(now); token="" pages=0
while :; do
  url="$endpoint/$bucket?list-type=2&prefix=many/&delimiter=/"
  [[ -n $token ]] && url+="&continuation-token=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$token")"
  curl "${curl_s3[@]}" -o "$work/page.xml" "$url"
  pages=$((pages + 1))
  token=$(sed -n 's:.*<NextContinuationToken>\([^<]*\)</NextContinuationToken>.*:\1:p' "$work/page.xml")
  [[ -n $token ]] || break
done
base_list=$(since "$t0")

# --- mounting ----------------------------------------------------------------------------------
printf '%s:%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$work/passwd"
chmod 600 "$work/passwd"
: >"$work/rclone.conf"
mount_tool() { # tool mountpoint; starts it in the foreground mode in the background
  local tool=$1 mnt=$2
  case "$tool" in
    s3mount)
      "$s3mount_bin" "$bucket" "$mnt" -f -o "endpoint=$endpoint,ro$s3mount_opts" >>"$work/s3mount.log" 2>&1 & ;;
    s3fs)
      s3fs "$bucket" "$mnt" -f -o "url=$endpoint,use_path_request_style,passwd_file=$work/passwd" \
        -o endpoint=us-east-1,ro >>"$work/s3fs.log" 2>&1 & ;;
    rclone)
      env -u AWS_CA_BUNDLE RCLONE_CONFIG="$work/rclone.conf" rclone mount ":s3:$bucket" "$mnt" \
        --s3-provider Other --s3-endpoint "$endpoint" --s3-force-path-style \
        --s3-access-key-id "$AWS_ACCESS_KEY_ID" --s3-secret-access-key "$AWS_SECRET_ACCESS_KEY" \
        --read-only --vfs-cache-mode off >>"$work/rclone.log" 2>&1 & ;;
  esac
  fs_pid=$! fs_mnt=$mnt
  for _ in $(seq 300); do
    mountpoint -q "$mnt" && return 0
    kill -0 "$fs_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$tool did not mount; its log:" >&2
  tail -20 "$work/$tool.log" >&2
  return 1
}
unmount_tool() { # unmount, give the tool 10 s to exit by itself, then stop it
  unmount_now "$fs_mnt"
  for _ in $(seq 100); do kill -0 "$fs_pid" 2>/dev/null || break; sleep 0.1; done
  stop_pid "$fs_pid"
  fs_pid="" fs_mnt=""
}

# --- the workloads: each prints "name value" lines, or returns non-zero --------------------------
seq_read() {
  local out
  out=$(timeout "$timeout_s" dd if="$1/large/object" of=/dev/null bs=1M 2>&1) || return 1
  local bytes secs
  bytes=$(awk '/bytes/ { print $1 }' <<<"$out")
  secs=$(awk '/bytes/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) print $(i - 1) }' <<<"$out")
  [[ $bytes == $((size_mib << 20)) ]] || { echo "seq_read: read $bytes bytes" >&2; return 1; }
  awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "seq_read %.3f\n", b / s / 1048576 }'
}
list_dir() {
  local t0 lines
  for pass in cold warm; do
    t0=$(now)
    timeout "$timeout_s" ls -l "$1/many" >"$work/ls.out" || return 1
    echo "ls_$pass $(since "$t0")"
    lines=$(grep -c '^-' "$work/ls.out" || true)
    [[ $lines == "$dir_count" ]] || { echo "ls -l showed $lines files, not $dir_count" >&2; return 1; }
  done
}
small_cat() {
  local t0 sum secs
  t0=$(now)
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  sum=$(timeout "$timeout_s" bash -c 'cat "$1"/small/* | md5sum' _ "$1") || return 1
  secs=$(since "$t0")
  [[ ${sum%% *} == "$small_md5" ]] || { echo "small_cat: wrong content" >&2; return 1; }
  awk -v n="$small_count" -v s="$secs" 'BEGIN { printf "small_cat %.3f\n", n / s }'
}

mkdir "$work/mnt"
failed=0
for workload in seq_read list_dir small_cat; do
  for tool in "${tool_list[@]}"; do
    drop_caches
    echo "[$(date +%T)] $workload on $tool" >&2
    if mount_tool "$tool" "$work/mnt" && run_bg "$workload" "$work/mnt" >"$work/res.txt"; then
      sed "s/^/$tool /" "$work/res.txt" >>"$work/results.txt"
    else
      echo "$workload FAILED on $tool; last lines of its log:" >&2
      tail -20 "$work/$tool.log" >&2
      echo "$tool $workload FAIL" >>"$work/results.txt"
      failed=1
    fi
    unmount_tool
  done
done

# --- the report --------------------------------------------------------------------------------
server_desc=$server
[[ $server == s3rver ]] && server_desc="s3rver 3.7.1 (node $(node --version), data on tmpfs)"
[[ $server == moto ]] && server_desc="moto_server $(python3 -c 'import moto; print(moto.__version__)')"
echo
echo "mount benchmark on $server_desc at $endpoint; $(nproc) cores, $(uname -r)"
echo "data: one ${size_mib} MiB object; a directory of ${dir_count} objects;" \
  "${small_count} files of 4-16 KiB ($((small_bytes >> 10)) KiB); uploaded in ${setup_s%.*} s"
echo "server ceiling (curl): GET of the large object $(awk -v m="$size_mib" -v s="$base_get" \
  'BEGIN { printf "%.1f", m / s }') MiB/s; LIST of the directory ${base_list:0:5} s ($pages pages)"
uses() { [[ ",$tools," == *",$1,"* ]]; }
if uses s3mount; then
  echo "s3mount: defaults (stat_ttl=60, list_ttl=60, cache_size=256M, readahead=8M), ro$s3mount_opts"
fi
if uses s3fs; then
  echo "s3fs $(s3fs --version 2>/dev/null | sed -n '1s/.*V\([0-9.]*\).*/\1/p'): defaults (no use_cache), ro"
fi
if uses rclone; then
  echo "rclone $(rclone version 2>/dev/null | awk 'NR == 1 { print $2 }'): --vfs-cache-mode off," \
    "other defaults (dir-cache-time 5m, attr-timeout 1s), read-only"
fi
[[ -e $work/no_drop ]] && echo "note: the kernel page cache could not be dropped between workloads"
python3 - "$work/results.txt" "${tool_list[@]}" <<'PY'
import sys
rows, tools = {}, sys.argv[2:]
for line in open(sys.argv[1]):
    tool, name, value = line.split()
    if value == "FAIL":
        for n in (["ls_cold", "ls_warm"] if name == "list_dir" else [name]):
            rows[(tool, n)] = None
    else:
        rows[(tool, name)] = float(value)
workloads = [("seq_read", "MiB/s", "higher"), ("ls_cold", "s", "lower"),
             ("ls_warm", "s", "lower"), ("small_cat", "files/s", "higher")]
peers = [t for t in tools if t != "s3mount"]
head = f"{'workload':<10} {'unit':<8}" + "".join(f" {t:>9}" for t in tools)
if "s3mount" in tools:
    head += "".join(f" {'s3m/' + p:>11}" for p in peers)
print(head)
def fmt(v):
    return f" {'FAIL':>9}" if v is None else f" {v:>9.{3 if v < 10 else 1}f}"
for name, unit, better in workloads:
    line = f"{name:<10} {unit:<8}" + "".join(fmt(rows.get((t, name))) if (t, name) in rows
                                             else f" {'-':>9}" for t in tools)
    if "s3mount" in tools:
        ours = rows.get(("s3mount", name))
        for p in peers:
            theirs = rows.get((p, name))
            line += f" {'-':>11}" if not ours or not theirs else f" {ours / theirs:>10.2f}x"
    print(line + f"   ({better} is better)")
PY
if ((failed)); then echo "some workloads FAILED (see above)" >&2; exit 1; fi
