# Process and mount housekeeping for bench/perf_suite.py: every process the suite starts is
# registered and stopped at exit (also on failure or a signal); timed commands run bounded,
# with a watchdog that kills the FUSE daemon when a command hangs on the mount; mounts are
# found in /proc/self/mountinfo and removed with umount --no-canonicalize / fusermount3 -u -z,
# never by stat()ing the mountpoint (that waits forever on a hung daemon).
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


class Interrupted(Exception):
    """SIGTERM/SIGINT arrived: unwind and clean up."""


def _on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def install_signal_handlers():
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_mounted(path):
    path = os.path.abspath(path)
    try:
        with open("/proc/self/mountinfo") as f:
            return any(line.split()[4] == path for line in f)
    except OSError:
        return False


def unmount(path):
    """Unmounts path if mounted: plainly, else lazily; never stats it."""
    for cmd in (["umount", "--no-canonicalize", path],
                ["umount", "-l", "--no-canonicalize", path],
                ["fusermount3", "-u", "-z", path]):
        if not is_mounted(path):
            return True
        subprocess.run(["timeout", "-k", "1", "10"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    return not is_mounted(path)


class Registry:
    """The processes and mounts the suite started, stopped in reverse order by stop_all()."""

    def __init__(self):
        self.procs = []  # Popen, started with start_new_session (own process group)
        self.mounts = []

    def spawn(self, cmd, log_path=None, env=None, stdout=None):
        out = stdout or (open(log_path, "ab") if log_path else subprocess.DEVNULL)
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT if log_path else subprocess.DEVNULL,
                             env=env, start_new_session=True)
        if log_path and out is not stdout:
            out.close()
        self.procs.append(p)
        return p

    def stop(self, p, grace=5.0):
        """TERM to p's group, up to `grace` s, then KILL."""
        if p.poll() is None:
            _signal_group(p, signal.SIGTERM)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(p, signal.SIGKILL)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    log(f"warning: pid {p.pid} did not die")
        _signal_group(p, signal.SIGKILL)  # leftovers of its group
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for m in reversed(self.mounts):
            unmount(m)
        for p in reversed(list(self.procs)):
            self.stop(p, grace=3.0)
        self.mounts = [m for m in self.mounts if is_mounted(m)]


def _signal_group(p, sig):
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Outcome:
    def __init__(self, rc, out, seconds, timed_out, hung, maxrss_kib, stopped=False):
        self.rc, self.out, self.seconds = rc, out, seconds
        self.timed_out, self.hung, self.maxrss_kib = timed_out, hung, maxrss_kib
        self.stopped = stopped  # ended by stop_after (a cap, not a failure)

    def why(self, timeout):
        if self.hung:
            return "the mount hung (its daemon was killed)"
        if self.timed_out:
            return f"timed out after {timeout} s"
        lines = [ln for ln in self.out.decode(errors="replace").splitlines() if ln.strip()]
        return (lines[0] if lines else f"exit status {self.rc}")[:160]


def run_timed(cmd, timeout, daemon=None, env=None, stop_after=None):
    """Runs cmd (own process group), returns an Outcome with its output (stdout + stderr),
    wall seconds from before the fork to its exit, and its peak RSS (ru_maxrss, KiB).
    After `timeout` s its group is killed; if it is still there 10 s later (stuck in a FUSE
    request the daemon has already read, which no signal ends), `daemon` (a Popen) is killed,
    which fails every waiting request; the caller then removes the mount lazily.
    stop_after (< timeout): a cap, not a failure: SIGTERM to the group then, SIGKILL 2 s
    later, and Outcome.stopped is set; the watchdog above still counts from the start, so a
    command that does not die (in a FUSE request that never returns) still ends as hung."""
    state = {"timed_out": False, "hung": False, "stopped": False}

    def stop_cmd(sig):  # no p.poll() here: it could reap p under the wait4 below
        state["stopped"] = True
        _signal_group(p, sig)

    def kill_cmd():
        state["timed_out"] = True
        _signal_group(p, signal.SIGKILL)

    def kill_daemon():
        state["hung"] = True
        if daemon is not None and daemon.poll() is None:
            log("the mount stopped answering; killing its daemon")
            _signal_group(daemon, signal.SIGKILL)

    with tempfile.TemporaryFile() as out:
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, env=env, start_new_session=True)
        timers = [threading.Timer(timeout, kill_cmd), threading.Timer(timeout + 10, kill_daemon)]
        if stop_after is not None and stop_after < timeout:
            timers += [threading.Timer(stop_after, stop_cmd, (signal.SIGTERM,)),
                       threading.Timer(stop_after + 2, stop_cmd, (signal.SIGKILL,))]
        for t in timers:
            t.daemon = True
            t.start()
        try:
            _, status, rusage = os.wait4(p.pid, 0)
        except BaseException:
            _signal_group(p, signal.SIGKILL)
            raise
        finally:
            for t in timers:
                t.cancel()
        seconds = time.monotonic() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        data = out.read()
    return Outcome(p.returncode, data, seconds, state["timed_out"], state["hung"],
                   rusage.ru_maxrss,
                   state["stopped"] and p.returncode != 0)


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def drop_caches():
    """sync + drop the page cache; False when not allowed (not root)."""
    subprocess.run(["timeout", "60", "sync"], check=False)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False
