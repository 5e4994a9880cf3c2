#!/usr/bin/env python3
"""Helper of bench/event_freshness.sh: sets up the bucket, measures how soon a mount shows
objects that another client overwrote through the S3 API, and prints the report.

  freshness_probe.py setup ENDPOINT BUCKET QUEUE COUNT SIZE
      creates BUCKET and the SQS queue QUEUE, points the bucket's ObjectCreated/ObjectRemoved
      notifications at the queue, PUTs COUNT objects f-000.. (generation 0), prints the queue URL
  freshness_probe.py measure ENDPOINT BUCKET MOUNTPOINT OUT.json --count N --size S --gen G
          [--cap SECONDS] [--interval SECONDS] [--threads T] [--grow BYTES]
      reads every file through the mount (it must show what S3 holds), then overwrites each
      object through S3 with generation G, one PUT after another, and polls every file through
      the mount (open + read, at most once per --interval per file) from T threads until it
      shows generation G; the latency of a file is from its own PUT's return to the end of the
      first read that showed the new bytes; --cap seconds after its PUT a file counts as not
      visible. Writes the latencies (null: not visible) and the poll counts to OUT.json.
  freshness_probe.py report OUT.json LABEL=RESULT.json ... (the first label is the reference)

Generation G of an object has SIZE + G * GROW bytes (--grow, default 0: every generation the
same size, so only the bytes tell them apart); each line of it names the key and generation.
Credentials come from the environment (moto takes any key).
"""
import json
import os
import statistics
import sys
import threading
import time


def content(index, gen, size, grow=0):
    size += grow * gen
    head = f"f-{index:03d} generation {gen:04d}\n".encode()
    body = (head * (size // len(head) + 1))[: size - 1]
    return body + b"\n"


def key(index):
    return f"f-{index:03d}"


def clients(endpoint):
    import boto3
    from botocore.config import Config

    kw = dict(endpoint_url=endpoint, region_name="us-east-1")
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 3}), **kw)
    return s3, kw


def setup(endpoint, bucket, queue, count, size):
    import boto3

    s3, kw = clients(endpoint)
    sqs = boto3.client("sqs", **kw)
    s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn["Attributes"]["QueueArn"],
                                 "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
    for i in range(count):
        s3.put_object(Bucket=bucket, Key=key(i), Body=content(i, 0, size))
    print(url)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


class Poller:
    """Polls the files handed to it until each shows its expected bytes or its cap passes."""

    def __init__(self, mnt, cap, interval):
        self.mnt, self.cap, self.interval = mnt, cap, interval
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.pending = {}  # index -> [put_return, expected, polls, last_poll, first_poll]
        self.latency, self.polls, self.gaps, self.errors = {}, {}, {}, {}
        self.closed = False

    def add(self, index, put_return, expected):
        with self.cond:
            self.pending[index] = [put_return, expected, 0, 0.0, None]
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def next_due(self, shard, shards):
        """The index of a pending file of this shard due for a poll, or None when all are done."""
        with self.cond:
            while True:
                mine = [(e[3], i) for i, e in self.pending.items() if i % shards == shard]
                if not mine:
                    if self.closed:
                        return None
                    self.cond.wait(0.1)
                    continue
                last, index = min(mine)
                wait = last + self.interval - time.monotonic()
                if wait <= 0:
                    entry = self.pending[index]
                    entry[3] = time.monotonic()
                    if entry[4] is None:
                        entry[4] = entry[3]
                    return index
                self.cond.wait(wait)

    def run(self, shard, shards):
        while (index := self.next_due(shard, shards)) is not None:
            with self.lock:
                put_return, expected = self.pending[index][:2]
            try:
                seen = read_file(os.path.join(self.mnt, key(index)))
            except OSError as e:
                seen = None
                with self.lock:
                    self.errors.setdefault(str(e.strerror), 0)
                    self.errors[str(e.strerror)] += 1
            now = time.monotonic()
            with self.lock:
                entry = self.pending[index]
                entry[2] += 1
                if seen == expected:
                    self.latency[index] = now - put_return
                elif now - put_return < self.cap:
                    continue
                else:
                    self.latency[index] = None
                self.polls[index] = entry[2]
                if entry[2] > 1:  # mean time between two polls of this file
                    self.gaps[index] = (entry[3] - entry[4]) / (entry[2] - 1)
                del self.pending[index]


def measure(endpoint, bucket, mnt, out, count, size, gen, cap, interval, threads, grow):
    s3, _ = clients(endpoint)
    # Warm up: every file read once through the mount, so that the mount has it cached; it
    # must show what S3 holds now (a fresh mount does).
    deadline = time.monotonic() + 30
    for i in range(count):
        now = s3.get_object(Bucket=bucket, Key=key(i))["Body"].read()
        while (seen := read_file(os.path.join(mnt, key(i)))) != now:
            if time.monotonic() > deadline:
                sys.exit(f"warm-up: {key(i)} through the mount is {seen[:40]!r}, "
                         f"S3 has {now[:40]!r}")
            time.sleep(0.1)
    poller = Poller(mnt, cap, interval)
    # Daemon threads: on an error or Ctrl-C the process ends without waiting out the cap.
    workers = [threading.Thread(target=poller.run, args=(s, threads), daemon=True)
               for s in range(threads)]
    for w in workers:
        w.start()
    put_seconds = []
    for i in range(count):
        body = content(i, gen, size, grow)
        t0 = time.monotonic()
        s3.put_object(Bucket=bucket, Key=key(i), Body=body)
        t1 = time.monotonic()
        put_seconds.append(t1 - t0)
        poller.add(i, t1, body)
    poller.close()
    for w in workers:
        w.join()
    result = {
        "count": count, "size": len(content(0, gen, size, grow)), "generation": gen,
        "cap_s": cap, "interval_s": interval, "threads": threads, "put_s": put_seconds,
        "latency_s": [poller.latency.get(i) for i in range(count)],
        "polls": [poller.polls.get(i) for i in range(count)],
        "poll_gap_s": [poller.gaps.get(i) for i in range(count)],
        "read_errors": poller.errors,
    }
    with open(out, "w") as f:
        json.dump(result, f)
    seen = [v for v in result["latency_s"] if v is not None]
    print(f"  {len(seen)} of {count} visible; median "
          f"{statistics.median(seen) if seen else float('nan'):.3f} s", file=sys.stderr)


def percentile(values, p):
    """Nearest-rank percentile of sorted values; a None (not visible) ranks above everything."""
    if not values:
        return None
    rank = max(1, -(-len(values) * p // 100))  # ceil(n * p / 100)
    return values[int(rank) - 1]


def summary(res):
    lat = res["latency_s"]
    ranked = sorted(v for v in lat if v is not None) + [None] * lat.count(None)
    gaps = [g for g in res["poll_gap_s"] if g is not None]
    return {"median": percentile(ranked, 50), "p95": percentile(ranked, 95),
            "max": ranked[-1] if ranked else None, "not_visible": lat.count(None),
            "n": len(lat), "poll_gap": statistics.median(gaps) if gaps else None,
            "put": statistics.median(res["put_s"]) if res["put_s"] else None,
            "first_poll": sum(1 for v, n in zip(lat, res["polls"]) if v is not None and n == 1)}


def secs(v, cap):
    return f"> {cap:g}" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def report(out, pairs):
    results, rows = {}, []
    for pair in pairs:
        label, path = pair.split("=", 1)
        results[label] = json.load(open(path)) if os.path.exists(path) else None
    labels = list(results)
    ref = labels[0]
    table = [["system", "median s", "p95 s", "max s", "not visible", "at 1st poll", "poll gap ms",
              "PUT ms"]]
    for label in labels:
        res = results[label]
        if res is None:
            table.append([label, "failed"] + [""] * 6)
            continue
        s = summary(res)
        rows.append((label, s, res["cap_s"]))
        table.append([label, secs(s["median"], res["cap_s"]), secs(s["p95"], res["cap_s"]),
                      secs(s["max"], res["cap_s"]), f"{s['not_visible']} of {s['n']}",
                      f"{s['first_poll']}",
                      "-" if s["poll_gap"] is None else f"{s['poll_gap'] * 1000:.0f}",
                      "-" if s["put"] is None else f"{s['put'] * 1000:.1f}"])
    print_table(table)
    sums = {label: s for label, s, _ in rows}
    if ref in sums and len(rows) > 1:
        print()
        table = [["ratio", "median", "p95"]]
        for label, s, cap in rows:
            if label != ref:
                table.append([f"{ref} / {label}"] +
                             [ratio(sums[ref][k], s[k], cap) for k in ("median", "p95")])
        print_table(table)
        print("(ratio of latencies: below 1 means the first system shows changes sooner)")
    with open(out, "w") as f:
        json.dump({"systems": results,
                   "summary": {label: s for label, s, _ in rows}}, f, indent=1)


def ratio(ours, theirs, cap):
    if ours is None:
        return "n/a (ours not visible)"
    if theirs is None:
        return f"< {ours / cap:.3g}x (theirs > cap)"
    return f"{ours / theirs:.3g}x" if theirs > 0 else "n/a"


def print_table(table):
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(r, widths))).rstrip())


def main(argv):
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    for a in ("endpoint", "bucket", "queue"):
        s.add_argument(a)
    s.add_argument("count", type=int)
    s.add_argument("size", type=int)
    m = sub.add_parser("measure")
    for a in ("endpoint", "bucket", "mnt", "out"):
        m.add_argument(a)
    m.add_argument("--count", type=int, required=True)
    m.add_argument("--size", type=int, required=True)
    m.add_argument("--gen", type=int, required=True)
    m.add_argument("--cap", type=float, default=120)
    m.add_argument("--interval", type=float, default=0.01)
    m.add_argument("--threads", type=int, default=8)
    m.add_argument("--grow", type=int, default=0)
    r = sub.add_parser("report")
    r.add_argument("out")
    r.add_argument("pairs", nargs="+")
    a = p.parse_args(argv)
    if a.cmd == "setup":
        setup(a.endpoint, a.bucket, a.queue, a.count, a.size)
    elif a.cmd == "measure":
        measure(a.endpoint, a.bucket, a.mnt, a.out, a.count, a.size, a.gen, a.cap, a.interval,
                a.threads, a.grow)
    else:
        report(a.out, a.pairs)


if __name__ == "__main__":
    main(sys.argv[1:])
