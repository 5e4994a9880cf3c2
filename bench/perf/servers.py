# The local S3 server (s3rver from npm, or moto_server) and the latency proxy in front of it
# for bench/perf_suite.py, plus the description of the environment (machine, versions) that
# heads the report and the JSON.
import datetime
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from . import proc

S3RVER_VERSION = "3.7.1"
S3RVER_KEY = "S3RVER"  # s3rver checks signatures with this fixed key pair; moto takes any


def _cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "s3mount-bench", f"s3rver-{S3RVER_VERSION}")


def _no_proxy_opener():
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url, timeout=10):
    with _no_proxy_opener().open(url, timeout=timeout) as r:
        return r.read()


class Server:
    """Starts s3rver (data on tmpfs) or moto_server on a free 127.0.0.1 port; stopped by the
    registry. Attributes: endpoint, port, description."""

    def __init__(self, kind, registry, work, bucket):
        self.kind, self.bucket = kind, bucket
        self.port = proc.free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.data_dir = None
        log_path = os.path.join(work, "server.log")
        if kind == "s3rver":
            root = _cache_dir()
            binary = os.path.join(root, "node_modules", ".bin", "s3rver")
            if not os.access(binary, os.X_OK):
                proc.log(f"installing s3rver@{S3RVER_VERSION} into {root}")
                subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent",
                                "--prefix", root, f"s3rver@{S3RVER_VERSION}"], check=True)
            # tmpfs: PUTs are ~4x faster than on disk
            self.data_dir = tempfile.mkdtemp(prefix="s3mount-bench.", dir="/dev/shm")
            env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider")
            self.proc = registry.spawn([binary, "-d", self.data_dir, "-a", "127.0.0.1", "-p",
                                        str(self.port), "--silent", "--configure-bucket",
                                        bucket], log_path=log_path, env=env)
            ready = self.endpoint + "/"
            node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
            self.description = f"s3rver {S3RVER_VERSION} (node {node.strip()}, data on tmpfs)"
        else:
            # moto's CRC32C needs a `crc32c` module: tests/tools/moto_crc32c provides one.
            shim = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "tools", "moto_crc32c")
            path = os.pathsep.join(p for p in [shim, os.environ.get("PYTHONPATH", "")] if p)
            self.proc = registry.spawn(["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p",
                                        str(self.port)], log_path=log_path,
                                       env=dict(os.environ, PYTHONPATH=path))
            ready = self.endpoint + "/moto-api/"
            version = subprocess.run(["python3", "-c", "import moto; print(moto.__version__)"],
                                     capture_output=True, text=True).stdout.strip()
            self.description = f"moto_server {version}"
        for _ in range(300):
            try:
                http_get(ready, timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{kind} did not start; see {log_path}")
        if self.proc.poll() is not None:
            raise RuntimeError(f"{kind} exited at start; see {log_path}")

    def remove_data(self):
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


class Proxy:
    """BUILD/bench/latency_proxy in front of the server with a given round-trip time."""

    def __init__(self, binary, registry, work, upstream_port, rtt_ms):
        self.rtt_ms = rtt_ms
        port_file = os.path.join(work, f"proxy-{rtt_ms}.ports")
        self.proc = registry.spawn([binary, "--upstream", f"127.0.0.1:{upstream_port}",
                                    "--rtt-ms", str(rtt_ms), "--port-file", port_file],
                                   log_path=os.path.join(work, f"proxy-{rtt_ms}.log"))
        for _ in range(200):
            if os.path.exists(port_file):
                with open(port_file) as f:
                    fields = f.read().split()
                if len(fields) == 2:
                    self.data_port, self.control_port = int(fields[0]), int(fields[1])
                    break
            if self.proc.poll() is not None:
                raise RuntimeError(f"latency_proxy exited at start (see proxy-{rtt_ms}.log)")
            time.sleep(0.05)
        else:
            raise RuntimeError("latency_proxy did not write its port file")
        self.url = f"http://127.0.0.1:{self.data_port}"

    def _control(self, what):
        return json.loads(http_get(f"http://127.0.0.1:{self.control_port}/{what}"))

    def reset(self):
        self._control("reset")

    def stats(self):
        return self._control("stats")


def _first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "not installed"


def environment(repo, s3mount_bin, server):
    """What the report's header and the JSON's "environment" say about this run."""
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    commit = subprocess.run(["git", "-C", repo, "describe", "--always", "--dirty",
                             "--abbrev=12"], capture_output=True, text=True).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "ram_gib": round(mem_kib / 1048576, 1),
        "kernel": platform.release(),
        "server": server.description,
        "s3mount": f"{commit or 'unknown commit'} ({s3mount_bin})",
        "s3fs": _first_line(["s3fs", "--version"]),
        "rclone": _first_line(["rclone", "version"]),
        "fio": _first_line(["fio", "--version"]),
        "python": platform.python_version(),
    }
