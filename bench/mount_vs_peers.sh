#!/usr/bin/env bash
# Mount benchmark: s3mount side by side with s3fs and rclone mounts of the same bucket on the same
# local S3 server (s3rver from npm, or moto_server) in one run. Workloads, each on a fresh mount
# (cold caches) after dropping the kernel's page cache; read ones on a read-only mount:
#   seq_read      cold sequential read of one large object (dd bs=1M), MiB/s
#   list_dir      ls -l of a directory of many objects, seconds (ls_cold); ls_warm: the same
#                 again at once (within every tool's cache TTL)
#   small_cat     cat over many small (4-16 KiB) files, files/s
# and write ones on a read-write mount (each deletes what it wrote through S3 afterwards):
#   seq_write     dd if=/dev/zero bs=1M of one new file, timed until dd's close() returned
#                 (seq_write) and until a HEAD shows the whole object in S3 (seq_write_s3)
#   create_small  one process creating files of 4 KiB one after another, timed until the last
#                 close() returned (create_small) and until a LIST shows them all (create_small_s3)
#   rm_small      rm -r of a directory of files of 4 KiB (put there with curl beforehand)
# Prints each tool's figure and the ratio s3mount/peer, plus the server's own ceiling (curl).
#
#   bench/mount_vs_peers.sh [--quick] [--server s3rver|moto] [--size-mib N] [--dir-count N]
#       [--small-count N] [--write-mib N] [--write-count N] [--tools s3mount,s3fs,rclone]
#       [--workloads seq_read,list_dir,small_cat,seq_write,create_small,rm_small]
#       [--build DIR] [--keep-logs DIR] [--timeout S] [--s3mount-opts OPT,OPT]
# Needs a build of s3mount (cmake -S . -B build && ninja -C build s3mount), root (or FUSE access),
# curl, s3fs and rclone (apt), and for s3rver node + npm (s3rver@3.7.1 is installed on first use
# into ~/.cache/s3mount-bench, outside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."

server=s3rver size_mib=1024 dir_count=10000 small_count=1000 tools=s3mount,s3fs,rclone
write_mib=1024 write_count=1000 small_file=4096
read_workloads=(seq_read list_dir small_cat) write_workloads=(seq_write create_small rm_small)
workloads=$(IFS=,; echo "${read_workloads[*]},${write_workloads[*]}")
build=build keep_logs="" timeout_s=900 s3mount_opts=""
usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --quick) size_mib=64 dir_count=1000 small_count=200 write_mib=128 write_count=200; shift ;;
    --server) server=$2; shift 2 ;;
    --size-mib) size_mib=$2; shift 2 ;;
    --dir-count) dir_count=$2; shift 2 ;;
    --small-count) small_count=$2; shift 2 ;;
    --write-mib) write_mib=$2; shift 2 ;;
    --write-count) write_count=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
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
IFS=, read -r -a workload_list <<<"$workloads"
for w in "${workload_list[@]}"; do
  [[ " ${read_workloads[*]} ${write_workloads[*]} " == *" $w "* ]] ||
    { echo "unknown workload $w" >&2; exit 2; }
done
runs() { [[ ",$workloads," == *",$1,"* ]]; }
is_write() { [[ " ${write_workloads[*]} " == *" $1 "* ]]; }

work=$(mktemp -d /tmp/s3mount-bench.XXXXXX)
data_dir="" server_pid="" fs_pid="" fs_mnt="" bg_pid="" dog_pid="" zeros=""
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
# Nothing below touches a mounted file system's files to learn whether it is mounted: a stat()
# of the mountpoint waits forever on a FUSE daemon that hangs (mountpoint(1) does one).
is_mounted() { awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo; }
# A workload on a mount runs watched: a process waiting for an answer that the FUSE daemon has
# already read cannot be killed (timeout -k does not help), so if the workload still runs
# 2 * timeout + 30 s after it started, the daemon is killed, which fails every waiting request.
run_watched() {
  local rc=0 first=""
  "$@" &
  bg_pid=$!
  sleep $((2 * timeout_s + 30)) &
  dog_pid=$!
  wait -n -p first "$bg_pid" "$dog_pid" || rc=$?
  if [[ $first == "$dog_pid" ]]; then
    echo "the mount stopped answering; killing its daemon" >&2
    echo "the mount hung (its daemon was killed after $((2 * timeout_s + 30)) s)" >"$work/hung.txt"
    kill -KILL "$fs_pid" 2>/dev/null || true
    rc=0
    wait "$bg_pid" || rc=$?
  else
    stop_pid "$dog_pid"
  fi
  bg_pid="" dog_pid=""
  return "$rc"
}
unmount_now() { # mountpoint; lazily if busy, so that nothing can hang on it (umount -c: no stat)
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
  # Unmount and stop the file system first: a workload still reading it then fails at once.
  [[ -n $fs_mnt ]] && unmount_now "$fs_mnt"
  [[ -n $fs_pid ]] && stop_pid "$fs_pid"
  [[ -n $bg_pid ]] && stop_pid "$bg_pid"
  [[ -n $dog_pid ]] && stop_pid "$dog_pid"
  [[ -n $server_pid ]] && stop_pid "$server_pid"
  if [[ -n $keep_logs ]]; then mkdir -p "$keep_logs" && cp "$work"/*.log "$keep_logs"/ 2>/dev/null; fi
  [[ -n $data_dir ]] && rm -rf "$data_dir"
  [[ -n $zeros ]] && rm -f "$zeros"
  if [[ -n $fs_mnt ]] && is_mounted "$fs_mnt"; then
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
urlenc() { python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
t0=$(now)
if runs seq_read; then
  head -c $((size_mib << 20)) /dev/urandom >"$work/large"
  run_bg curl "${curl_s3[@]}" -T "$work/large" -o /dev/null "$endpoint/$bucket/large/object"
  rm -f "$work/large"
fi
if runs list_dir; then
  head -c 100 /dev/urandom >"$work/entry"
  for i in $(seq 0 $((dir_count - 1))); do
    printf 'url = "%s/%s/many/f%05d"\nupload-file = "%s"\noutput = "/dev/null"\n' \
      "$endpoint" "$bucket" "$i" "$work/entry"
  done >"$work/put_many.cfg"
  run_bg curl "${curl_s3[@]}" --parallel --parallel-max 8 -K "$work/put_many.cfg"
fi
mkdir "$work/small"
if runs small_cat; then
  for i in $(seq 0 $((small_count - 1))); do
    name=$(printf 's%05d' "$i")
    head -c $(($(small_kib "$i") << 10)) /dev/urandom >"$work/small/$name"
    printf 'url = "%s/%s/small/%s"\nupload-file = "%s"\noutput = "/dev/null"\n' \
      "$endpoint" "$bucket" "$name" "$work/small/$name"
  done >"$work/put_small.cfg"
  run_bg curl "${curl_s3[@]}" --parallel --parallel-max 8 -K "$work/put_small.cfg"
  small_md5=$(cat "$work"/small/* | md5sum | cut -d' ' -f1)
  small_bytes=$(cat "$work"/small/* | wc -c)
fi
setup_s=$(since "$t0")

# S3 helpers for the write workloads and the ceilings.
s3_keys() { # prefix: prints "key size" for every object whose key starts with it
  # Pages follow start-after (the last key seen), not continuation tokens: s3rver's tokens are
  # random base64, and curl's SigV4 signs a token holding '/' so that s3rver rejects it.
  local after="" url
  while :; do
    url="$endpoint/$bucket?list-type=2&prefix=$(urlenc "$1")"
    [[ -n $after ]] && url+="&start-after=$(urlenc "$after")"
    curl "${curl_s3[@]}" -o "$work/keys.xml" "$url" || return 1
    grep -oE '<(Key|Size)>[^<]*</(Key|Size)>' "$work/keys.xml" | sed -E 's/<[^>]+>//g' | paste - - || true
    grep -q '<IsTruncated>true</IsTruncated>' "$work/keys.xml" || break
    after=$(grep -oE '<Key>[^<]*</Key>' "$work/keys.xml" | tail -n 1 | sed -E 's/<[^>]+>//g')
  done
}
s3_size() { # key: prints its Content-Length (HEAD), nothing if it does not exist
  { curl "${curl_s3[@]}" -I "$endpoint/$bucket/$1" 2>/dev/null || true; } |
    tr -d '\r' | awk 'tolower($1) == "content-length:" { print $2 }'
}
s3_delete_prefix() { # prefix: deletes every object under it, 8 DELETEs in flight. s3rver now and
  # then answers 500 to one of parallel DELETEs in one directory, so list again and retry.
  local round
  for round in 1 2 3 4 5; do
    s3_keys "$1" | awk -v u="$endpoint/$bucket/" \
      '{ printf "url = \"%s%s\"\noutput = \"/dev/null\"\n", u, $1 }' >"$work/delete.cfg"
    [[ -s $work/delete.cfg ]] || return 0
    ((round == 1)) || sleep 0.5
    curl "${curl_s3[@]}" -X DELETE --parallel --parallel-max 8 -K "$work/delete.cfg" || true
  done
  echo "warning: objects under $1 are left after 5 rounds of DELETE" >&2
}
put_small_files() { # prefix count: PUTs count objects of $small_file bytes, prefix/f00000 ...
  local i
  for i in $(seq 0 $(($2 - 1))); do
    printf 'url = "%s/%s/%s/f%05d"\nupload-file = "%s"\noutput = "/dev/null"\n' \
      "$endpoint" "$bucket" "$1" "$i" "$work/small_file"
  done >"$work/put_files.cfg"
  curl "${curl_s3[@]}" "${@:3}" -K "$work/put_files.cfg"
}
head -c "$small_file" /dev/urandom >"$work/small_file"

# The server's own ceiling: one GET of the large object, a full LIST of the big directory, one
# PUT of a write-sized object, and PUTs of small objects one after another on one connection.
if runs seq_read; then
  t0=$(now); run_bg curl "${curl_s3[@]}" -o /dev/null "$endpoint/$bucket/large/object"
  base_get=$(since "$t0")
fi
if runs list_dir; then
  t0=$(now); after="" pages=0
  while :; do # by start-after, as in s3_keys
    url="$endpoint/$bucket?list-type=2&prefix=many/&delimiter=/"
    [[ -n $after ]] && url+="&start-after=$(urlenc "$after")"
    curl "${curl_s3[@]}" -o "$work/page.xml" "$url"
    pages=$((pages + 1))
    grep -q '<IsTruncated>true</IsTruncated>' "$work/page.xml" || break
    after=$(grep -oE '<Key>[^<]*</Key>' "$work/page.xml" | tail -n 1 | sed -E 's/<[^>]+>//g')
  done
  base_list=$(since "$t0")
fi
if runs seq_write; then
  zeros=$(mktemp /dev/shm/s3mount-bench-put.XXXXXX) # tmpfs: the source costs nothing to read
  head -c $((write_mib << 20)) /dev/zero >"$zeros"
  t0=$(now); run_bg curl "${curl_s3[@]}" -T "$zeros" -o /dev/null "$endpoint/$bucket/ceiling/put"
  base_put=$(since "$t0")
  rm -f "$zeros"
fi
if runs create_small; then
  t0=$(now); run_bg put_small_files ceiling/small "$write_count"
  base_put_small=$(since "$t0")
fi
if runs seq_write || runs create_small; then run_bg s3_delete_prefix ceiling/; fi

# --- mounting ----------------------------------------------------------------------------------
printf '%s:%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$work/passwd"
chmod 600 "$work/passwd"
: >"$work/rclone.conf"
# Read workloads mount read-only; write workloads read-write. rclone then needs a VFS cache:
# with --vfs-cache-mode off it cannot open a file for both reading and writing, seek while
# writing, or rewrite a file without O_TRUNC; "writes" stages each written file in --cache-dir
# and uploads it after close() returned (--vfs-write-back 0s: at once, not 5 s later).
mount_tool() { # tool mountpoint ro|rw; starts it in the foreground mode in the background
  local tool=$1 mnt=$2 mode=$3
  case "$tool" in
    s3mount)
      "$s3mount_bin" "$bucket" "$mnt" -f -o "endpoint=$endpoint,$mode$s3mount_opts" >>"$work/s3mount.log" 2>&1 & ;;
    s3fs)
      s3fs "$bucket" "$mnt" -f -o "url=$endpoint,use_path_request_style,passwd_file=$work/passwd" \
        -o "endpoint=us-east-1,$mode" >>"$work/s3fs.log" 2>&1 & ;;
    rclone)
      local modeopts=(--read-only --vfs-cache-mode off)
      [[ $mode == rw ]] && modeopts=(--vfs-cache-mode writes --vfs-write-back 0s --cache-dir "$work/rclone-cache")
      env -u AWS_CA_BUNDLE RCLONE_CONFIG="$work/rclone.conf" rclone mount ":s3:$bucket" "$mnt" \
        --s3-provider Other --s3-endpoint "$endpoint" --s3-force-path-style \
        --s3-access-key-id "$AWS_ACCESS_KEY_ID" --s3-secret-access-key "$AWS_SECRET_ACCESS_KEY" \
        "${modeopts[@]}" >>"$work/rclone.log" 2>&1 & ;;
  esac
  fs_pid=$! fs_mnt=$mnt
  for _ in $(seq 300); do
    is_mounted "$mnt" && return 0
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

# --- the write workloads: each prints "name seconds rate" lines, or writes why it failed to
# $work/err.txt and returns non-zero. They write under their own prefix (wseq, wsmall, wrm);
# WORKLOAD_setup runs before the mount and WORKLOAD_cleanup after the unmount, both through S3,
# so that the next tool starts from the same bucket whatever the mount did. -----------------------
fail() { # reason
  echo "$*" >"$work/err.txt"
  echo "failed: $*" >&2
  return 1
}
first_error() { # a command's output: its first line without the "prog: doing 'file': " part
  local line
  line=$(grep -m1 . <<<"$1" || true)
  echo "${line##*: }"
}
command_failed() { # exit status, output: says why a timed command failed
  if (($1 == 124 || $1 == 137)); then fail "timed out after $timeout_s s"; else fail "$(first_error "$2")"; fi
}
rate_line() { # name seconds count: prints "name seconds count/seconds"
  awk -v n="$1" -v s="$2" -v c="$3" 'BEGIN { printf "%s %.6f %.3f\n", n, s, c / s }'
}
seq_write() {
  local mnt=$1 bytes=$((write_mib << 20)) t0 out rc=0 secs deadline size=""
  t0=$(now)
  # dd closes its output before it exits (and reports a failed close), so the time includes close.
  out=$(timeout -k 10 "$timeout_s" dd if=/dev/zero of="$mnt/wseq" bs=1M count="$write_mib" 2>&1) || rc=$?
  secs=$(since "$t0")
  ((rc == 0)) || { command_failed "$rc" "$out"; return 1; }
  [[ $(awk '/bytes/ { print $1 }' <<<"$out") == "$bytes" ]] || { fail "dd: $out"; return 1; }
  deadline=$(($(date +%s) + timeout_s))
  while size=$(s3_size wseq); [[ $size != "$bytes" ]]; do
    (($(date +%s) < deadline)) || { fail "S3 has ${size:-no} bytes of $bytes, $timeout_s s after close"; return 1; }
    sleep 0.05
  done
  rate_line seq_write "$secs" "$write_mib"
  rate_line seq_write_s3 "$(since "$t0")" "$write_mib"
}
seq_write_cleanup() { s3_delete_prefix wseq; }
count_listed() { # prefix: how many objects named prefix/fNNNNN of $small_file bytes S3 lists
  s3_keys "$1/" | awk -v p="$1/" -v s="$small_file" \
    'index($1, p) == 1 && substr($1, length(p) + 1) ~ /^f[0-9]+$/ && $2 == s { n++ } END { print n + 0 }'
}
create_small() {
  local mnt=$1 out rc=0 start end deadline listed=0
  out=$(timeout -k 10 "$timeout_s" python3 bench/create_files.py "$mnt/wsmall" "$write_count" \
    "$small_file" 2>&1) || rc=$?
  ((rc == 0)) || { command_failed "$rc" "$out"; return 1; }
  read -r start end <<<"$out"
  deadline=$(($(date +%s) + timeout_s))
  while listed=$(count_listed wsmall); ((listed < write_count)); do
    (($(date +%s) < deadline)) || { fail "S3 lists $listed of $write_count files, $timeout_s s after close"; return 1; }
    sleep 0.1
  done
  rate_line create_small "$(awk -v a="$start" -v b="$end" 'BEGIN { print (b - a) / 1e9 }')" "$write_count"
  rate_line create_small_s3 "$(since "$start")" "$write_count"
}
create_small_cleanup() { s3_delete_prefix wsmall; }
rm_small_setup() { put_small_files wrm "$write_count" --parallel --parallel-max 8; }
rm_small() {
  local mnt=$1 t0 out rc=0 secs left
  t0=$(now)
  out=$(timeout -k 10 "$timeout_s" rm -r "$mnt/wrm" 2>&1) || rc=$?
  secs=$(since "$t0")
  ((rc == 0)) || { command_failed "$rc" "$out"; return 1; }
  left=$(s3_keys wrm/ | wc -l)
  ((left == 0)) || { fail "rm -r returned, but S3 still lists $left objects"; return 1; }
  rate_line rm_small "$secs" "$write_count"
}
rm_small_cleanup() { s3_delete_prefix wrm; }

mkdir "$work/mnt"
failed=0
for workload in "${workload_list[@]}"; do
  mode=ro
  is_write "$workload" && mode=rw
  for tool in "${tool_list[@]}"; do
    rm -f "$work/err.txt" "$work/hung.txt"
    if declare -F "${workload}_setup" >/dev/null; then run_bg "${workload}_setup"; fi
    drop_caches
    echo "[$(date +%T)] $workload on $tool" >&2
    ok=0
    if ! mount_tool "$tool" "$work/mnt" "$mode"; then
      echo "did not mount" >"$work/err.txt"
    elif run_watched "$workload" "$work/mnt" >"$work/res.txt"; then
      ok=1
    fi
    [[ -e $work/hung.txt ]] && { ok=0; mv "$work/hung.txt" "$work/err.txt"; }
    if ((ok)); then
      sed "s/^/$tool /" "$work/res.txt" >>"$work/results.txt"
    else
      echo "$workload FAILED on $tool; last lines of its log:" >&2
      tail -20 "$work/$tool.log" >&2
      echo "$tool $workload FAIL $(head -1 "$work/err.txt" 2>/dev/null || true)" >>"$work/results.txt"
      failed=1
    fi
    unmount_tool
    if declare -F "${workload}_cleanup" >/dev/null; then run_bg "${workload}_cleanup"; fi
    rm -rf "$work/rclone-cache"
  done
done

# --- the report --------------------------------------------------------------------------------
server_desc=$server
[[ $server == s3rver ]] && server_desc="s3rver 3.7.1 (node $(node --version), data on tmpfs)"
[[ $server == moto ]] && server_desc="moto_server $(python3 -c 'import moto; print(moto.__version__)')"
echo
echo "mount benchmark on $server_desc at $endpoint; $(nproc) cores, $(uname -r)"
data=()
runs seq_read && data+=("one ${size_mib} MiB object")
runs list_dir && data+=("a directory of ${dir_count} objects")
runs small_cat && data+=("${small_count} files of 4-16 KiB ($((small_bytes >> 10)) KiB)")
join() { local IFS=';' all; all="$*"; echo "${all//;/; }"; }
((${#data[@]})) && echo "read data: $(join "${data[@]}"); uploaded in ${setup_s%.*} s"
runs seq_write && echo "write data: one file of ${write_mib} MiB from /dev/zero (dd bs=1M)"
runs create_small || runs rm_small && echo "write data: ${write_count} files of $((small_file >> 10)) KiB"
ceiling=()
runs seq_read && ceiling+=("GET of the large object $(awk -v m="$size_mib" -v s="$base_get" \
  'BEGIN { printf "%.1f", m / s }') MiB/s")
runs list_dir && ceiling+=("LIST of the directory ${base_list:0:5} s ($pages pages)")
runs seq_write && ceiling+=("PUT of ${write_mib} MiB $(awk -v m="$write_mib" -v s="$base_put" \
  'BEGIN { printf "%.1f", m / s }') MiB/s")
runs create_small && ceiling+=("${write_count} PUTs of 4 KiB one after another $(awk -v n="$write_count" \
  -v s="$base_put_small" 'BEGIN { printf "%.0f", n / s }') files/s")
((${#ceiling[@]})) && echo "server ceiling (curl): $(join "${ceiling[@]}")"
uses() { [[ ",$tools," == *",$1,"* ]]; }
if uses s3mount; then
  echo "s3mount: defaults (stat_ttl=60, list_ttl=60, cache_size=256M, readahead=8M), ro or rw$s3mount_opts"
fi
if uses s3fs; then
  echo "s3fs $(s3fs --version 2>/dev/null | sed -n '1s/.*V\([0-9.]*\).*/\1/p'): defaults (no use_cache;" \
    "writes staged in a temporary file, uploaded by close), ro or rw"
fi
if uses rclone; then
  echo "rclone $(rclone version 2>/dev/null | awk 'NR == 1 { print $2 }'): reads --read-only" \
    "--vfs-cache-mode off; writes --vfs-cache-mode writes --vfs-write-back 0s (close returns" \
    "before the upload); other defaults (dir-cache-time 5m, attr-timeout 1s)"
fi
[[ -e $work/no_drop ]] && echo "note: the kernel page cache could not be dropped between workloads"
python3 - "$work/results.txt" "${tool_list[@]}" <<'PY'
import sys
rows, tools = {}, sys.argv[2:]
parts = {"list_dir": ["ls_cold", "ls_warm"], "seq_write": ["seq_write", "seq_write_s3"],
         "create_small": ["create_small", "create_small_s3"]}
for line in open(sys.argv[1]):
    tool, name, rest = line.rstrip("\n").split(" ", 2)
    if rest.startswith("FAIL"):
        for n in parts.get(name, [name]):
            rows[(tool, n)] = "failed: " + (rest[4:].strip() or "?")
    else:
        values = [float(v) for v in rest.split()]
        rows[(tool, name)] = values[0] if len(values) == 1 else values
peers = [t for t in tools if t != "s3mount"]
ratios = "s3mount" in tools

reads = [("seq_read", "MiB/s", "higher"), ("ls_cold", "s", "lower"),
         ("ls_warm", "s", "lower"), ("small_cat", "files/s", "higher")]
reads = [r for r in reads if any((t, r[0]) in rows for t in tools)]
if reads:
    print()
    head = f"{'workload':<10} {'unit':<8}" + "".join(f" {t:>9}" for t in tools)
    if ratios:
        head += "".join(f" {'s3m/' + p:>11}" for p in peers)
    print(head)
    def fmt(v):
        return f" {'FAIL':>9}" if isinstance(v, str) else f" {v:>9.{3 if v < 10 else 1}f}"
    for name, unit, better in reads:
        line = f"{name:<10} {unit:<8}" + "".join(fmt(rows.get((t, name))) if (t, name) in rows
                                                 else f" {'-':>9}" for t in tools)
        if ratios:
            ours = rows.get(("s3mount", name))
            for p in peers:
                theirs = rows.get((p, name))
                ok = isinstance(ours, float) and isinstance(theirs, float) and ours and theirs
                line += f" {ours / theirs:>10.2f}x" if ok else f" {'-':>11}"
        print(line + f"   ({better} is better)")

writes = [("seq_write", "MiB/s", "until close() returned"),
          ("seq_write_s3", "MiB/s", "until a HEAD showed the whole object"),
          ("create_small", "files/s", "until the last close() returned"),
          ("create_small_s3", "files/s", "until a LIST showed every file"),
          ("rm_small", "files/s", "until rm -r returned (S3 then lists none)")]
writes = [w for w in writes if any((t, w[0]) in rows for t in tools)]
if writes:
    def cell(v):
        if v is None:
            return "-"
        if isinstance(v, str):
            return v
        return f"{v[0]:.2f} s {v[1]:.{3 if v[1] < 10 else 1}f}"
    table = [["workload", "unit"] + [f"{t} (s, rate)" for t in tools] +
             (["s3m/" + p for p in peers] if ratios else []) + ["timed"]]
    for name, unit, what in writes:
        line = [name, unit] + [cell(rows.get((t, name))) for t in tools]
        if ratios:
            ours = rows.get(("s3mount", name))
            for p in peers:
                theirs = rows.get((p, name))
                ok = isinstance(ours, list) and isinstance(theirs, list)
                line.append(f"{ours[1] / theirs[1]:.2f}x" if ok else "n/a")
        table.append(line + [what])
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    print()
    for r in table:
        print("  ".join(c.ljust(w) if i < 2 or i == len(r) - 1 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    print("(rates: higher is better; s3m/PEER is the ratio of the rates)")
PY
if ((failed)); then echo "some workloads FAILED (see above)" >&2; exit 1; fi
