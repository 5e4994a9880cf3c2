# The systems bench/perf_suite.py compares: how each mount is started (always in the
# foreground, in the background, so that its daemon's PID is known for VmHWM), waited for,
# and removed; and how the "limit" (BUILD/bench/s3_limit, a plain S3 client doing only the
# requests a job needs) is run. Every mount and the limit talk to the server through the
# latency proxy.
import json
import os
import shutil
import time

from . import proc

MOUNTS = ["s3mount", "s3fs", "rclone-off", "rclone-full"]
ALL = MOUNTS + ["limit"]

# What the report says about each system's options.
OPTIONS = {
    "s3mount": "s3mount BUCKET MNT -f -o endpoint=PROXY_URL (defaults: stat_ttl=60, list_ttl=60,"
               " cache_size=256M, readahead=64M, max_threads=16; read-write)",
    "s3fs": "s3fs BUCKET MNT -f -o url=PROXY_URL,use_path_request_style,passwd_file=F,"
            "endpoint=us-east-1 (defaults otherwise: no use_cache; read-write)",
    "rclone-off": "rclone mount :s3:BUCKET MNT --s3-provider Other --s3-endpoint PROXY_URL"
                  " --s3-force-path-style --vfs-cache-mode off (AWS_CA_BUNDLE unset)",
    "rclone-full": "as rclone-off but --vfs-cache-mode full --cache-dir WORK/rclone-cache-N"
                   " (fresh and empty per mount) --vfs-write-back 0s",
    "limit": "BUILD/bench/s3_limit: only the S3 requests the job needs (see bench/README.md)",
}


class MountFailed(Exception):
    pass


class Mount:
    """One fresh mount of a system at ctx.mnt through the proxy; unmount() removes it and
    stops its daemon."""

    def __init__(self, ctx, system):
        self.ctx, self.system, self.path = ctx, system, ctx.mnt
        self.cache_dir = None
        self.log_path = os.path.join(ctx.work, f"{system}.log")
        url = ctx.proxy.url
        env = ctx.env
        if system == "s3mount":
            opts = f"endpoint={url}" + "".join("," + o for o in ctx.s3mount_opts)
            cmd = [ctx.s3mount_bin, ctx.bucket, self.path, "-f", "-o", opts]
        elif system == "s3fs":
            cmd = ["s3fs", ctx.bucket, self.path, "-f", "-o",
                   f"url={url},use_path_request_style,passwd_file={ctx.passwd_file},"
                   "endpoint=us-east-1"]
        else:
            env = {k: v for k, v in env.items() if k != "AWS_CA_BUNDLE"}  # rclone 1.60 fails
            env["RCLONE_CONFIG"] = os.path.join(ctx.work, "rclone.conf")  # empty
            cmd = ["rclone", "mount", f":s3:{ctx.bucket}", self.path, "--s3-provider", "Other",
                   "--s3-endpoint", url, "--s3-force-path-style",
                   "--s3-access-key-id", env["AWS_ACCESS_KEY_ID"],
                   "--s3-secret-access-key", env["AWS_SECRET_ACCESS_KEY"]]
            if system == "rclone-off":
                cmd += ["--vfs-cache-mode", "off"]
            else:
                ctx.mount_serial += 1
                self.cache_dir = os.path.join(ctx.work, f"rclone-cache-{ctx.mount_serial}")
                os.mkdir(self.cache_dir)
                cmd += ["--vfs-cache-mode", "full", "--cache-dir", self.cache_dir,
                        "--vfs-write-back", "0s"]
        with open(self.log_path, "a") as f:
            f.write(f"\n=== {time.strftime('%H:%M:%S')} {' '.join(cmd)}\n")
        self.daemon = ctx.registry.spawn(cmd, log_path=self.log_path, env=env)
        ctx.registry.mounts.append(self.path)
        deadline = time.monotonic() + 30
        while not proc.is_mounted(self.path):
            if self.daemon.poll() is not None or time.monotonic() > deadline:
                tail = self.log_tail()
                self.unmount()
                raise MountFailed(f"did not mount ({tail})")
            time.sleep(0.02)

    def log_tail(self, lines=1):
        try:
            with open(self.log_path, errors="replace") as f:
                return " | ".join(f.read().strip().splitlines()[-lines:])[:200]
        except OSError:
            return ""

    def vm_hwm_kib(self):
        return proc.vm_hwm_kib(self.daemon.pid)

    def unmount(self):
        """Unmounts, gives the daemon 10 s to exit by itself, then stops it."""
        proc.unmount(self.path)
        try:
            self.daemon.wait(10)
        except Exception:  # noqa: BLE001 - TimeoutExpired
            pass
        self.ctx.registry.stop(self.daemon)
        if not proc.is_mounted(self.path) and self.path in self.ctx.registry.mounts:
            self.ctx.registry.mounts.remove(self.path)
        if self.cache_dir:
            shutil.rmtree(self.cache_dir, ignore_errors=True)


class LimitFailed(Exception):
    pass


def run_limit(ctx, workload, *args):
    """Runs s3_limit WORKLOAD ARGS through the proxy; returns (its JSON, peak RSS KiB)."""
    cmd = [ctx.limit_bin, "--endpoint", ctx.proxy.url, "--bucket", ctx.bucket,
           "--region", "us-east-1", workload] + [str(a) for a in args]
    out = proc.run_timed(cmd, ctx.timeout, env=ctx.env)
    text = out.out.decode(errors="replace")
    if out.rc != 0 or out.timed_out:
        raise LimitFailed(f"s3_limit {workload}: {out.why(ctx.timeout)}")
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except ValueError:
                break
            if result.get("errors"):
                raise LimitFailed(f"s3_limit {workload}: {result['errors']} errors")
            return result, out.maxrss_kib
    raise LimitFailed(f"s3_limit {workload}: no JSON line in its output")
