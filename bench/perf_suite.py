#!/usr/bin/env python3
"""s3mount performance suite: one command that starts a local S3 server (s3rver, or moto),
puts a latency proxy in front of it (one per round-trip setting), and runs the same workloads
on the same data through s3mount, s3fs, rclone mount (--vfs-cache-mode off and full) and "the
limit" (a plain S3 client doing only the requests the job needs). Prints per latency a table
of figures with the ratios s3mount/peer and s3mount/limit, a table of S3 requests and peak
RSS (with whether s3mount stayed within cache_size + write_buffer + 64 MiB), and writes every
raw number to a JSON file. See bench/README.md.

Every latency runs the full counts (10,000-entry ls -l, 1,000 files read, created, removed;
--quick: a tenth), bounded in time instead: create_small, small_cat and rm_small stop after
--cell-seconds (default 30, quick 5) and report files done / elapsed with the count
("4.4 (132 of 1000 in 30 s)"); the cold ls -l stops after --ls-seconds (default 45, quick 5),
its cell then reads "> 45", ratios against it are bounds (">= x", "<= x"), and ls_warm is
skipped for that system. The limit always does every file. The full run takes ~25 min here.

  bench/perf_suite.py [--quick] [--latencies 0,20]
      [--systems s3mount,s3fs,rclone-off,rclone-full,limit]
      [--workloads seq_read,rand_4k,rand_64k,ls,small_cat,seq_write,create_small,rm_small]
      [--server s3rver|moto] [--build DIR] [--json PATH] [--keep-logs DIR] [--timeout S]
      [--s3mount-opts OPT,...] [--cell-seconds S] [--ls-seconds S] [--rtt-scale N]

Exit status: 0 when every workload ran correctly on every system, 1 when some failed (the
report is printed all the same), 2 on bad usage, 130 when interrupted.
"""
import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from perf import proc, report, servers, systems  # noqa: E402
from perf.s3 import S3, S3Error  # noqa: E402
from perf.workloads import WORKLOADS, Failed, per_latency_sizes, setup_data  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUCKET = "bench"
SIZES = {
    "full": {"large": 1 << 30, "dir": 10000, "small": 1000, "write_mib": 1024,
             "creates": 1000, "removes": 1000, "fio_s": 8, "cell_s": 30, "ls_s": 45},
    "quick": {"large": 64 << 20, "dir": 500, "small": 50, "write_mib": 64,
              "creates": 50, "removes": 50, "fio_s": 2, "cell_s": 5, "ls_s": 5},
}
ALIASES = {"ls_cold": "ls", "ls_warm": "ls"}


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test, ~3 min)")
    ap.add_argument("--latencies", default="0,20", help="round-trip times in ms (default 0,20)")
    ap.add_argument("--systems", default=",".join(systems.ALL))
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help="any of " + ",".join(WORKLOADS) + " (ls_cold/ls_warm mean ls)")
    ap.add_argument("--server", choices=["s3rver", "moto"], default="s3rver")
    ap.add_argument("--build", default="build", help="build dir (s3mount, bench/latency_proxy,"
                    " bench/s3_limit); default build")
    ap.add_argument("--json", help="raw numbers (default bench-results.json in cwd, else /tmp)")
    ap.add_argument("--keep-logs", help="copy every log here at the end")
    ap.add_argument("--timeout", type=int, default=300, help="per timed command (default 300)")
    ap.add_argument("--s3mount-opts", default="", help="extra -o options for s3mount")
    ap.add_argument("--cell-seconds", type=float,
                    help="cap of each per-file cell (create_small, small_cat, rm_small): "
                    "it stops after S s and reports files done / elapsed (default 30, quick 5)")
    ap.add_argument("--ls-seconds", type=float,
                    help="cap of the cold ls -l: over it the cell reads '> S' and ls_warm is "
                    "skipped (default 45, quick 5)")
    ap.add_argument("--rtt-scale", type=int, default=1,
                    help="development aid: at RTT > 0 the per-file workloads use 1/N of the "
                    "files (default 1: the full counts at every latency)")
    args = ap.parse_args(argv)
    try:
        args.latencies = [int(v) for v in args.latencies.split(",") if v != ""]
    except ValueError:
        ap.error("--latencies takes integers, e.g. 0,20")
    args.systems = [s for s in args.systems.split(",") if s]
    bad = [s for s in args.systems if s not in systems.ALL]
    if bad or not args.systems:
        ap.error(f"unknown system {bad}; choose from {','.join(systems.ALL)}")
    args.systems = [s for s in systems.ALL if s in args.systems]  # fixed order
    wanted = {ALIASES.get(w, w) for w in args.workloads.split(",") if w}
    bad = [w for w in wanted if w not in WORKLOADS]
    if bad or not wanted:
        ap.error(f"unknown workload {bad}; choose from {','.join(WORKLOADS)}")
    args.workloads = [w for w in WORKLOADS if w in wanted]
    args.s3mount_opts = [o for o in args.s3mount_opts.split(",") if o]
    if not args.json:
        cwd_ok = os.access(os.getcwd(), os.W_OK)
        args.json = os.path.join(os.getcwd() if cwd_ok else "/tmp", "bench-results.json")
    return args


class Context:
    """What the workloads need: paths, sizes, clients, the current proxy."""

    def __init__(self, args, work, registry):
        self.args, self.work, self.registry = args, work, registry
        self.sizes = SIZES["quick" if args.quick else "full"]
        self.timeout = args.timeout
        self.cell_s = args.cell_seconds or self.sizes["cell_s"]
        self.ls_s = args.ls_seconds or self.sizes["ls_s"]
        self.sizes = dict(self.sizes, cell_s=self.cell_s, ls_s=self.ls_s)
        self.bucket = BUCKET
        self.s3mount_opts = args.s3mount_opts
        build = os.path.abspath(args.build)
        self.s3mount_bin = os.path.join(build, "s3mount")
        self.proxy_bin = os.path.join(build, "bench", "latency_proxy")
        self.limit_bin = os.path.join(build, "bench", "s3_limit")
        self.mnt = os.path.join(work, "mnt")
        os.mkdir(self.mnt)
        self.mount_serial = 0
        self.proxy = None
        self.s3 = None
        self.small_md5 = self.small_bytes = None
        self.env = {k: v for k, v in os.environ.items()
                    if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
        self.env.update(AWS_ACCESS_KEY_ID=servers.S3RVER_KEY,
                        AWS_SECRET_ACCESS_KEY=servers.S3RVER_KEY, AWS_REGION="us-east-1")
        self.env.pop("AWS_SESSION_TOKEN", None)
        self.env.pop("AWS_PROFILE", None)
        self.passwd_file = os.path.join(work, "passwd")
        with open(os.open(self.passwd_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(f"{servers.S3RVER_KEY}:{servers.S3RVER_KEY}\n")
        open(os.path.join(work, "rclone.conf"), "w").close()
        self.no_drop = False


def check_tools(args, ctx):
    missing = []
    need = {"s3mount": ctx.s3mount_bin, "latency_proxy": ctx.proxy_bin}
    if "limit" in args.systems:
        need["s3_limit"] = ctx.limit_bin
    for name, path in need.items():
        if not os.access(path, os.X_OK):
            missing.append(f"{path} (ninja -C {args.build} {name})")
    tools = ["dd"]
    tools += [s for s in ("s3fs",) if s in args.systems]
    tools += ["rclone"] if {"rclone-off", "rclone-full"} & set(args.systems) else []
    tools += ["fio"] if {"rand_4k", "rand_64k"} & set(args.workloads) else []
    tools += ["node", "npm"] if args.server == "s3rver" else []
    missing += [f"{t} (apt; scripts/install-deps.sh --with-peers)" for t in tools
                if not shutil.which(t)]
    if "s3mount" not in args.systems:  # s3mount_bin is only needed to mount it
        missing = [m for m in missing if not m.startswith(ctx.s3mount_bin)]
    return missing


def run_one(ctx, w, system):
    """One workload on one system: prepare, (fresh mount,) run, check, clean up."""
    entry = {"row_names": [r for r in w.rows if system != "limit" or r != "ls_warm"],
             "rows": {}, "error": None}
    start = time.monotonic()
    try:
        if hasattr(w, "prepare"):
            w.prepare(ctx, system)
        if system == "limit":
            entry["rows"], entry["maxrss_kib"] = w.limit(ctx)
        else:
            # A fresh FUSE mount has fresh inodes, so no page cache; the drop (0.6 s here)
            # is for the reads all the same, in case a tool keeps something outside.
            if getattr(w, "reads", False) and not proc.drop_caches():
                ctx.no_drop = True
            t0 = time.monotonic()
            mount = systems.Mount(ctx, system)
            entry["mount_s"] = round(time.monotonic() - t0, 3)
            try:
                entry["rows"] = w.run(ctx, mount)
            finally:
                entry["vmhwm_kib"] = mount.vm_hwm_kib()
                if entry["vmhwm_kib"] is None:
                    entry["daemon_log"] = mount.log_tail(5)
                t0 = time.monotonic()
                mount.unmount()
                entry["unmount_s"] = round(time.monotonic() - t0, 3)
    except (Failed, systems.MountFailed, systems.LimitFailed, S3Error) as e:
        entry["error"] = str(e) or type(e).__name__
        proc.log(f"  FAILED: {entry['error']}")
    except (OSError, ValueError, KeyError, IndexError) as e:  # a bug or a broken tool: a cell
        entry["error"] = f"{type(e).__name__}: {e}"
        proc.log(f"  FAILED: {entry['error']}")
    finally:
        if hasattr(w, "cleanup"):
            try:
                w.cleanup(ctx)
            except S3Error as e:
                proc.log(f"  warning: cleanup: {e}")
    entry["wall_s"] = round(time.monotonic() - start, 3)
    return entry


def run_latency(ctx, args, rtt, timing):
    ctx.proxy = servers.Proxy(ctx.proxy_bin, ctx.registry, ctx.work, ctx.server.port, rtt)
    ctx.cur = per_latency_sizes(ctx.sizes, rtt, args.rtt_scale)
    run = {"rtt_ms": rtt, "sizes": ctx.cur, "systems": {s: {} for s in args.systems}}
    t_lat = time.monotonic()
    for name in args.workloads:
        w = WORKLOADS[name]
        t_w = time.monotonic()
        for system in args.systems:
            proc.log(f"RTT {rtt} ms: {name} on {system}")
            entry = run_one(ctx, w, system)
            run["systems"][system][name] = entry
            for row, res in entry["rows"].items():
                req = (res.get("requests") or {}).get("total")
                if res.get("skipped"):
                    proc.log(f"  {row} skipped: {res['skipped']}")
                    continue
                ex = res.get("extra") or {}
                of = f", {ex['done']} of {ex['total']}" if "done" in ex else ""
                cap = " (capped)" if ex.get("capped") else ""
                proc.log(f"  {row} = {res['value']:.3f}{cap} ({res['seconds']:.2f} s{of}, "
                         f"{req} requests)")
        timing[f"RTT {rtt} ms, {name}"] = time.monotonic() - t_w
    for system in args.systems:
        timing[f"RTT {rtt} ms, {system} (all workloads)"] = sum(
            e["wall_s"] for e in run["systems"][system].values())
    timing[f"RTT {rtt} ms total"] = time.monotonic() - t_lat
    ctx.registry.stop(ctx.proxy.proc)
    ctx.proxy = None
    return run


def main(argv):
    args = parse_args(argv)
    proc.install_signal_handlers()
    t_start = time.monotonic()
    registry = proc.Registry()
    work = tempfile.mkdtemp(prefix="s3mount-perf.")
    ctx = Context(args, work, registry)
    missing = check_tools(args, ctx)
    if missing:
        print("missing:\n  " + "\n  ".join(missing), file=sys.stderr)
        shutil.rmtree(work)
        return 2
    server = None
    status = 0
    try:
        server = servers.Server(args.server, registry, work, BUCKET)
        ctx.server = server
        ctx.s3 = S3(server.endpoint, BUCKET, servers.S3RVER_KEY, servers.S3RVER_KEY)
        if args.server == "moto":
            ctx.s3.create_bucket()
        env = servers.environment(REPO, ctx.s3mount_bin, server)
        timing = {}
        t0 = time.monotonic()
        proc.log(f"uploading the data to {server.description}")
        setup_data(ctx, args.workloads,
                   [per_latency_sizes(ctx.sizes, rtt, args.rtt_scale) for rtt in args.latencies])
        timing["data upload"] = setup_s = time.monotonic() - t0
        runs = [run_latency(ctx, args, rtt, timing) for rtt in args.latencies]
        timing["whole run"] = time.monotonic() - t_start
        notes = []
        text = [report.header(env, args, ctx.sizes, setup_s)]
        budget = report.s3mount_budget_mib(args.s3mount_opts)
        text += [report.latency_tables(run, args.systems, notes, budget) for run in runs]
        if ctx.no_drop:
            notes.append("the kernel page cache could not be dropped (needs root)")
        text += ["notes:\n  " + "\n  ".join(notes)] if notes else []
        text.append(report.time_summary(timing))
        print("\n\n".join(text))
        failed = any(e["error"] for run in runs for per in run["systems"].values()
                     for e in per.values())
        with open(args.json, "w") as f:
            json.dump({"environment": env, "sizes": ctx.sizes, "server": args.server,
                       "systems": args.systems, "workloads": args.workloads,
                       "options": {s: systems.OPTIONS[s] for s in args.systems},
                       "s3mount_opts": args.s3mount_opts, "timing_s": timing,
                       "failed": failed, "runs": runs}, f, indent=1)
        print(f"\nraw numbers: {args.json}")
        if failed:
            print("some workloads FAILED (see the tables and notes)", file=sys.stderr)
            status = 1
    except proc.Interrupted as e:
        proc.log(f"interrupted ({e}); cleaning up")
        status = 130
    except (RuntimeError, OSError, S3Error) as e:
        proc.log(f"error: {e}")
        status = 1
    finally:
        registry.stop_all()
        if server:
            server.remove_data()
        if args.keep_logs:
            os.makedirs(args.keep_logs, exist_ok=True)
            for path in glob.glob(os.path.join(work, "*.log")):
                shutil.copy(path, args.keep_logs)
        if registry.mounts:
            proc.log(f"warning: {registry.mounts} still mounted; left {work} in place")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
