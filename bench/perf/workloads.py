# The workloads of bench/perf_suite.py: the data they need (uploaded once, directly to the
# server), and for each one how it runs on a mount (bounded child processes only: the suite
# itself never touches a mounted path, so a hung daemon cannot hang it), how the limit does the
# same job with s3_limit, how its result is checked, and how it is cleaned up through S3.
# The per-file workloads are bounded in time, not shrunk: create_small, small_cat and rm_small
# stop after ctx.cell_s seconds (their figure is files done / elapsed, the extra says how many
# of how many), the cold ls -l after ctx.ls_s seconds (its cell then reads "> CAP").
import hashlib
import json
import os
import resource
import time

from . import proc
from .s3 import PatternReader
from .systems import run_limit

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/

# row name -> (unit, "rate" (higher is better) or "time" (lower is better))
ROWS = {
    "seq_read": ("MiB/s", "rate"), "seq_write": ("MiB/s", "rate"),
    "rand_4k": ("IOPS", "rate"), "rand_64k": ("IOPS", "rate"),
    "create_small": ("files/s", "rate"), "ls_cold": ("s", "time"), "ls_warm": ("s", "time"),
    "small_cat": ("files/s", "rate"), "rm_small": ("files/s", "rate"),
}
SMALL_WRITE = 4096
LIST_HEAD_PARALLEL = 64  # the limit's HEADs in flight for ls -l: as many as s3mount's
DURABLE_WAIT_S = 60  # how long S3 may lag behind close() before the data count as lost


class Failed(Exception):
    """A workload did not run correctly on a system; the message is the table's cell."""


def _cpu_now(ctx):
    """CPU seconds used so far by the server, the proxy, the mount's daemon (none for the
    limit) and, together, every child the suite has waited for (the tools: dd, fio, the
    readers, s3_limit)."""
    pids = {"server": ctx.server.proc.pid, "proxy": ctx.proxy.proc.pid,
            "daemon": getattr(ctx, "daemon_pid", None)}
    now = {role: proc.cpu_seconds(pid) for role, pid in pids.items() if pid}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    now["tools"] = children.ru_utime + children.ru_stime
    return now


def reset(ctx):
    """Start of a measured job: the proxy's counters and the CPU meters start from zero."""
    ctx.proxy.reset()
    ctx.cpu_start = _cpu_now(ctx)
    ctx.cpu_start_wall = time.monotonic()


def measured(ctx, value, seconds, extra=None):
    """A row: the value, what the proxy counted and the CPU seconds each process used since
    the last reset (a 2-core machine: where CPU, not the network, bounds a job, it shows)."""
    stats = ctx.proxy.stats()
    end, start = _cpu_now(ctx), getattr(ctx, "cpu_start", {})
    cpu = {role: round(end[role] - start[role], 2) for role in end
           if end[role] is not None and start.get(role) is not None}
    cpu["wall_s"] = round(time.monotonic() - getattr(ctx, "cpu_start_wall", 0), 2)
    return {"value": value, "seconds": seconds, "requests": stats.get("requests"),
            "bytes_up": stats.get("bytes_up"), "bytes_down": stats.get("bytes_down"),
            "connections": stats.get("connections"), "cpu_s": cpu, "extra": extra or {}}


def timed(ctx, cmd, mount, stop_after=None):
    """Runs cmd bounded (watchdog on the mount's daemon); raises Failed unless it exits 0
    or was stopped at stop_after seconds (out.stopped; see proc.run_timed)."""
    out = proc.run_timed(cmd, ctx.timeout, daemon=mount.daemon if mount else None,
                         env=ctx.env, stop_after=stop_after)
    if (out.rc != 0 and not out.stopped) or out.timed_out or out.hung:
        raise Failed(out.why(ctx.timeout))
    return out


def counted(done, total, seconds, cap):
    """The extra of a per-file row: how many files of how many in how long, and whether the
    time cap ended it (the report then shows "RATE (DONE of TOTAL in S s)")."""
    return {"done": done, "total": total, "elapsed_s": round(seconds, 3),
            "capped": done < total, "cap_s": cap}


def wait_until(ctx, check):
    """Polls check() (through S3, directly) until it returns True; returns the seconds waited.
    check() returns True or a string saying what S3 shows; after min(timeout, 120) s that
    string fails the cell (the data never arrived: a write-back cache lost them)."""
    start = time.monotonic()
    limit = min(ctx.timeout, DURABLE_WAIT_S)
    while (state := check()) is not True:
        if time.monotonic() - start > limit:
            raise Failed(f"{state} {limit} s after close")
        time.sleep(min(0.5, 0.05 + (time.monotonic() - start) / 10))  # light on the server
    return time.monotonic() - start


def expected_mode(i):
    """ls -l's mode string for many/f{i:05d}: every 10th carries s3fs metadata."""
    if i % 10:
        return "-rw-r--r--"
    return "-rw-------" if (i // 10) % 2 == 0 else "-rwxr-xr-x"


# --- the data, uploaded once ------------------------------------------------------------------

def per_latency_sizes(sizes, rtt_ms, scale):
    """The sizes at one latency: with RTT > 0 the per-file workloads (ls, small_cat,
    create_small, rm_small) use 1/scale of the files, under their own prefixes, so that a run
    at 20 ms, where every file costs round trips, stays within the time budget. Their rows are
    rates per file (ls: seconds for the directory shown in the header)."""
    cur = dict(sizes, ls_prefix="many/", small_prefix="small/")
    if rtt_ms > 0 and scale > 1:
        for key in ("dir", "small", "creates", "removes"):
            cur[key] = max(10, sizes[key] // scale)
        cur.update(ls_prefix=f"many-{cur['dir']}/", small_prefix=f"small-{cur['small']}/")
    return cur


def setup_data(ctx, workloads, size_sets):
    """Uploads, directly to the server, the data of every size set (one per latency)."""
    s3 = ctx.s3
    if {"seq_read", "rand_4k", "rand_64k"} & set(workloads):
        size = size_sets[0]["large"]
        s3.put("large/object", PatternReader(size, os.urandom(1 << 20)), length=size)
    ctx.small_md5, ctx.small_bytes = {}, {}
    for prefix, count in {(c["ls_prefix"], c["dir"]) for c in size_sets}:
        if "ls" not in workloads:
            break

        def put_entry(i, prefix=prefix):
            meta = None
            if i % 10 == 0:
                meta = {"mode": str(0o100600 if (i // 10) % 2 == 0 else 0o100755),
                        "uid": "1000", "gid": "1000", "mtime": "1600000000"}
            s3.put(f"{prefix}f{i:05d}", b"x" * 100, metadata=meta)
        s3.parallel(put_entry, range(count))
    for prefix, count in {(c["small_prefix"], c["small"]) for c in size_sets}:
        if "small_cat" not in workloads:
            break
        blobs = [os.urandom((4 + (i * 7) % 13) << 10) for i in range(count)]  # 4-16 KiB
        s3.parallel(lambda i, p=prefix, b=blobs: s3.put(f"{p}s{i:05d}", b[i]), range(count))
        ctx.small_md5[prefix] = {f"s{i:05d}": hashlib.md5(b).hexdigest()
                                 for i, b in enumerate(blobs)}
        ctx.small_bytes[prefix] = sum(len(b) for b in blobs)


def put_small_files(ctx, prefix, count):
    block = os.urandom(SMALL_WRITE)
    ctx.s3.parallel(lambda i: ctx.s3.put(f"{prefix}f{i:05d}", block), range(count))


def skipped(why):
    """A row not measured (the report shows "skipped", the notes why)."""
    return {"value": None, "seconds": None, "requests": None, "skipped": why, "extra": {}}


# --- the workloads ----------------------------------------------------------------------------

class SeqRead:
    reads = True
    rows = ["seq_read"]

    def run(self, ctx, mount):
        reset(ctx)
        out = timed(ctx, ["dd", f"if={mount.path}/large/object", "of=/dev/null", "bs=1M"], mount)
        nbytes = _dd_bytes(out)
        if nbytes != ctx.sizes["large"]:
            raise Failed(f"dd read {nbytes} bytes of {ctx.sizes['large']}")
        return {"seq_read": measured(ctx, nbytes / out.seconds / 2**20, out.seconds)}

    def limit(self, ctx):
        reset(ctx)
        r, rss = run_limit(ctx, "seq_read", "--key", "large/object")
        if r["bytes"] != ctx.sizes["large"]:
            raise Failed(f"read {r['bytes']} bytes of {ctx.sizes['large']}")
        return {"seq_read": measured(ctx, r["bytes"] / r["seconds"] / 2**20, r["seconds"])}, rss


def _dd_bytes(out):
    for line in out.out.decode(errors="replace").splitlines():
        if " bytes" in line and line.split()[0].isdigit():
            return int(line.split()[0])
    return -1


class RandRead:
    reads = True

    def __init__(self, block):
        self.block = block
        self.rows = ["rand_4k" if block == 4096 else "rand_64k"]

    def run(self, ctx, mount):
        row = self.rows[0]
        reset(ctx)
        out = timed(ctx, ["fio", "--name=r", f"--filename={mount.path}/large/object",
                          "--rw=randread", f"--bs={self.block}", "--direct=0",
                          "--ioengine=psync", "--time_based", f"--runtime={ctx.sizes['fio_s']}",
                          f"--size={ctx.sizes['large']}", "--readonly",
                          "--output-format=json"], mount)
        text = out.out.decode(errors="replace")
        try:
            job = json.loads(text[text.index("{"):])["jobs"][0]
        except (ValueError, KeyError, IndexError) as e:
            raise Failed(f"fio printed no JSON ({e})") from e
        read = job["read"]
        if job.get("error") or read["io_bytes"] <= 0:
            raise Failed(f"fio: error {job.get('error')}, {read['io_bytes']} bytes read")
        return {row: measured(ctx, read["iops"], read["runtime"] / 1000,
                              {"mib_s": read["bw_bytes"] / 2**20, "ios": read["total_ios"]})}

    def limit(self, ctx):
        reset(ctx)
        r, rss = run_limit(ctx, "random_read", "--key", "large/object", "--block", self.block,
                           "--seconds", ctx.sizes["fio_s"], "--jobs", 1)
        return {self.rows[0]: measured(ctx, r["iops"], r["seconds"],
                                       {"mib_s": r.get("mib_s"), "ios": r["ops"]})}, rss


class ListDir:
    reads = True
    rows = ["ls_cold", "ls_warm"]

    def run(self, ctx, mount):
        result = {}
        for row in self.rows:
            reset(ctx)
            cap = ctx.ls_s if row == "ls_cold" else None
            out = timed(ctx, ["ls", "-l", mount.path + "/" + ctx.cur["ls_prefix"]], mount,
                        stop_after=cap)
            if out.stopped:  # over the cap: the value is the cap, a lower bound
                result[row] = measured(ctx, cap, out.seconds, {"capped": True, "cap_s": cap})
                result["ls_warm"] = skipped(f"ls_cold took over {cap} s")
                break
            lines = [ln for ln in out.out.decode(errors="replace").splitlines()
                     if ln.startswith("-")]
            if len(lines) != ctx.cur["dir"]:
                raise Failed(f"{row}: ls -l showed {len(lines)} files, not {ctx.cur['dir']}")
            wrong = []
            for line in lines:
                fields = line.split()
                name, mode = fields[-1], fields[0][:10]
                if not name.startswith("f") or mode != expected_mode(int(name[1:])):
                    wrong.append(f"{name} {mode}")
            extra = {"modes_right": len(lines) - len(wrong)}
            # no_object_metadata gives the modes up for speed: counted, not a failure
            modes_promised = "no_object_metadata" not in ctx.s3mount_opts
            if mount.system == "s3mount" and wrong and modes_promised:
                raise Failed(f"{row}: {len(wrong)} wrong modes, e.g. {wrong[0]}")
            result[row] = measured(ctx, out.seconds, out.seconds, extra)
        return result

    def limit(self, ctx):
        r_list, _ = run_limit(ctx, "list", "--prefix", ctx.cur["ls_prefix"],
                              "--expect", ctx.cur["dir"])
        reset(ctx)
        r, rss = run_limit(ctx, "list_head", "--prefix", ctx.cur["ls_prefix"],
                           "--expect", ctx.cur["dir"], "--parallel", LIST_HEAD_PARALLEL)
        if r["ops"] != ctx.cur["dir"]:
            raise Failed(f"list_head saw {r['ops']} objects, not {ctx.cur['dir']}")
        return {"ls_cold": measured(ctx, r["seconds"], r["seconds"],
                                    {"list_only_s": r_list["seconds"]})}, rss


class SmallCat:
    reads = True
    rows = ["small_cat"]

    def run(self, ctx, mount):
        prefix = ctx.cur["small_prefix"]
        manifest = os.path.join(ctx.work, prefix.strip("/") + ".md5")
        if not os.path.exists(manifest):
            with open(manifest, "w") as f:
                f.writelines(f"{k} {v}\n" for k, v in ctx.small_md5[prefix].items())
        reset(ctx)
        # the directory is a prefix ("small/"): read its files, named s00000...
        out = timed(ctx, ["python3", os.path.join(HERE, "read_files.py"),
                          f"{mount.path}/{prefix}", "s", manifest, str(ctx.cell_s)], mount)
        start, end, done, nbytes = (int(v) for v in out.out.split()[-4:])
        seconds = (end - start) / 1e9
        n = ctx.cur["small"]
        if done < n and seconds < ctx.cell_s:
            raise Failed(f"read {done} of {n} files in {seconds:.1f} s")
        return {"small_cat": measured(ctx, done / seconds, seconds,
                                      dict(counted(done, n, seconds, ctx.cell_s),
                                           bytes=nbytes))}

    def limit(self, ctx):
        reset(ctx)
        prefix = ctx.cur["small_prefix"]
        r, rss = run_limit(ctx, "get_each", "--prefix", prefix, "--expect", ctx.cur["small"])
        if r["ops"] != ctx.cur["small"] or r["bytes"] != ctx.small_bytes[prefix]:
            raise Failed(f"got {r['ops']} objects, {r['bytes']} bytes")
        return {"small_cat": measured(ctx, r["ops"] / r["seconds"], r["seconds"])}, rss


class SeqWrite:
    rows = ["seq_write"]

    def run(self, ctx, mount):
        mib = ctx.sizes["write_mib"]
        reset(ctx)
        # dd closes its output before it exits and fails if close() fails: the time includes it
        out = timed(ctx, ["dd", "if=/dev/zero", f"of={mount.path}/wseq", "bs=1M",
                          f"count={mib}"], mount)
        if _dd_bytes(out) != mib << 20:
            raise Failed(f"dd wrote {_dd_bytes(out)} bytes")

        def whole():
            size = ctx.s3.size("wseq")
            return size == mib << 20 or f"S3 has {size} of {mib << 20} bytes"
        late = wait_until(ctx, whole)
        return {"seq_write": measured(ctx, mib / out.seconds, out.seconds,
                                      {"durable_after_close_s": late})}

    def limit(self, ctx):
        mib = ctx.sizes["write_mib"]
        reset(ctx)
        r, rss = run_limit(ctx, "seq_write", "--key", "wseq-limit", "--mib", mib)
        if ctx.s3.size("wseq-limit") != mib << 20:
            raise Failed("S3 does not have the whole object")
        return {"seq_write": measured(ctx, mib / r["seconds"], r["seconds"])}, rss

    def cleanup(self, ctx):
        for key in ("wseq", "wseq-limit"):
            ctx.s3.delete(key)


class CreateSmall:
    rows = ["create_small"]

    def _listed(self, ctx, prefix, done=None):
        """How many of f00000 to f{done-1} (all, if done is None) S3 lists with 4 KiB."""
        names = None if done is None else {f"{prefix}f{i:05d}" for i in range(done)}
        return sum(1 for key, size in ctx.s3.list(prefix)
                   if size == SMALL_WRITE and (names is None or key in names))

    def run(self, ctx, mount):
        n = ctx.cur["creates"]
        reset(ctx)
        out = timed(ctx, ["python3", os.path.join(HERE, "create_files.py"),
                          f"{mount.path}/wsmall", str(n), str(SMALL_WRITE),
                          str(ctx.cell_s)], mount)
        start, end, done = (int(v) for v in out.out.split()[-3:])
        seconds = (end - start) / 1e9
        if done < n and seconds < ctx.cell_s:
            raise Failed(f"created {done} of {n} files in {seconds:.1f} s")

        def all_listed():  # the files closed, f00000 to f{done-1}, each of the right size
            k = self._listed(ctx, "wsmall/", done)
            return k >= done or f"S3 lists {k} of the {done} files closed"
        late = wait_until(ctx, all_listed)
        return {"create_small": measured(ctx, done / seconds, seconds,
                                         dict(counted(done, n, seconds, ctx.cell_s),
                                              durable_after_close_s=late))}

    def limit(self, ctx):
        n = ctx.cur["creates"]
        reset(ctx)
        r, rss = run_limit(ctx, "put_each", "--prefix", "wsmall-limit/", "--count", n,
                           "--size", SMALL_WRITE)
        if self._listed(ctx, "wsmall-limit/") != n:
            raise Failed("S3 does not list every file")
        return {"create_small": measured(ctx, n / r["seconds"], r["seconds"])}, rss

    def cleanup(self, ctx):
        for prefix in ("wsmall/", "wsmall-limit/"):
            ctx.s3.delete_prefix(prefix)


class RmSmall:
    rows = ["rm_small"]

    def prepare(self, ctx, system):
        put_small_files(ctx, "wrm-limit/" if system == "limit" else "wrm/",
                        ctx.cur["removes"])

    def run(self, ctx, mount):
        n = ctx.cur["removes"]
        reset(ctx)
        # stopped at the cap (TERM, then KILL): the files removed are counted through S3
        out = timed(ctx, ["rm", "-r", f"{mount.path}/wrm"], mount, stop_after=ctx.cell_s)
        left = sum(1 for key, _ in ctx.s3.list("wrm/") if key.startswith("wrm/f"))
        if left and not out.stopped:
            raise Failed(f"rm -r returned, but S3 still lists {left} objects")
        done = n - left
        return {"rm_small": measured(ctx, done / out.seconds, out.seconds,
                                     counted(done, n, out.seconds, ctx.cell_s))}

    def limit(self, ctx):
        n = ctx.cur["removes"]
        reset(ctx)
        r, rss = run_limit(ctx, "delete_each", "--prefix", "wrm-limit/", "--expect", n)
        left = len(ctx.s3.list("wrm-limit/"))
        if r["ops"] != n or left:
            raise Failed(f"deleted {r['ops']} of {n}; {left} left")
        return {"rm_small": measured(ctx, n / r["seconds"], r["seconds"])}, rss

    def cleanup(self, ctx):
        for prefix in ("wrm/", "wrm-limit/"):
            ctx.s3.delete_prefix(prefix)


# CLI name -> workload, in the order they run
WORKLOADS = {
    "seq_read": SeqRead(), "rand_4k": RandRead(4096), "rand_64k": RandRead(65536),
    "ls": ListDir(), "small_cat": SmallCat(), "seq_write": SeqWrite(),
    "create_small": CreateSmall(), "rm_small": RmSmall(),
}
