# The report of bench/perf_suite.py: a header (machine, versions, options), then per latency
# setting a table of each system's figure per workload with the ratios s3mount/peer and
# s3mount/limit, and a table of the S3 requests (counted at the proxy) and peak RSS per system
# per workload, with whether s3mount stayed within its memory budget (cache_size +
# write_buffer + 64 MiB); finally where the time went. The JSON file holds the same raw numbers.
# Capped cells (see bench/perf/workloads.py) say so: a per-file rate "R (DONE of TOTAL in S s)",
# a cold ls over its cap "> CAP", and a ratio against it is a bound (">= x" or "<= x").
from .systems import OPTIONS
from .workloads import ROWS

PEERS = ["s3fs", "rclone-off", "rclone-full", "limit"]
SHORT = {"s3fs": "s3fs", "rclone-off": "rc-off", "rclone-full": "rc-full", "limit": "limit"}


def _fmt(v):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}" if v >= 10 else f"{v:.3f}" if v < 1 else f"{v:.2f}"


def _table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip()
                     for r in rows)


def _cells(run, system, row):
    """(entry of the system's workload holding this row, the row's result or None)."""
    for entry in run["systems"].get(system, {}).values():
        if row in entry["row_names"]:
            return entry, entry["rows"].get(row)
    return None, None


def _capped_time(res, kind):
    """True when res is a time row stopped at its cap (its value is then a lower bound)."""
    return kind == "time" and res["extra"].get("capped", False)


def ratio(ours, theirs, kind):
    """(ratio, bound): >1 means s3mount is better: rates s3mount/peer, times peer/s3mount.
    bound is "" for a measured ratio, ">=" or "<=" when one side's time is only a lower bound
    (it hit its cap); (None, "") when there is no ratio (a side missing, both capped)."""
    if not ours or not theirs or ours.get("value") is None or theirs.get("value") is None:
        return None, ""
    a, b = ours["value"], theirs["value"]
    if a <= 0 or b <= 0:
        return None, ""
    ours_capped, theirs_capped = _capped_time(ours, kind), _capped_time(theirs, kind)
    if ours_capped and theirs_capped:
        return None, ""
    bound = "<=" if ours_capped else ">=" if theirs_capped else ""
    return (a / b if kind == "rate" else b / a), bound


def _cell(res, kind, row, system, rtt, notes):
    """A measured cell: the figure, "*" when close() returned before S3 had the data,
    the count when the time cap stopped a per-file row, "> CAP" for a capped time."""
    extra = res["extra"]
    if _capped_time(res, kind):
        notes.append(f"{row} on {system} (RTT {rtt} ms): stopped at its cap of "
                     f"{extra['cap_s']:g} s")
        return f"> {extra['cap_s']:g}"
    text = _fmt(res["value"])
    if (extra.get("durable_after_close_s") or 0) > 0.5:
        text += "*"
        notes.append(f"{row} on {system} (RTT {rtt} ms): * close returned "
                     f"{extra['durable_after_close_s']:.1f} s before S3 had the data")
    if extra.get("capped"):
        secs = extra["elapsed_s"]
        secs = _fmt(secs) if secs < 10 else round(secs)
        text += f" ({extra['done']} of {extra['total']} in {secs} s)"
    return text


def parse_size(text):
    """s3mount's SIZE syntax: a number with K, M, G or T (powers of 1024), or bytes."""
    text = text.strip().upper().rstrip("B")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(text[-1:], 1)
    return int(float(text[:-1] if mult > 1 else text) * mult)


def s3mount_budget_mib(opts):
    """cache_size + write_buffer (s3mount's defaults 256M each, or --s3mount-opts) in MiB."""
    sizes = {"cache_size": 256 << 20, "write_buffer": 256 << 20}
    for opt in opts:
        key, _, value = opt.partition("=")
        if key in sizes and value:
            try:
                sizes[key] = parse_size(value)
            except ValueError:
                pass
    return sum(sizes.values()) / 2**20


def latency_tables(run, systems, notes, budget_mib=512):
    rows_present = [r for r in ROWS if any(_cells(run, s, r)[0] for s in systems)]
    peers = [p for p in PEERS if p in systems] if "s3mount" in systems else []
    head = ["workload", "unit"] + systems + [f"s3m/{SHORT[p]}" for p in peers]
    table = [head]
    for row in rows_present:
        unit, kind = ROWS[row]
        line = [row, unit]
        for s in systems:
            entry, res = _cells(run, s, row)
            if entry is None or (res is None and not entry.get("error")):
                line.append("-")
            elif entry.get("error") and res is None:
                notes.append(f"{row} on {s} (RTT {run['rtt_ms']} ms): failed: {entry['error']}")
                reason = entry["error"]
                line.append("failed: " + (reason if len(reason) <= 24 else reason[:21] + "..."))
            elif res.get("skipped"):
                notes.append(f"{row} on {s} (RTT {run['rtt_ms']} ms): skipped: "
                             f"{res['skipped']}")
                line.append("skipped")
            else:
                line.append(_cell(res, kind, row, s, run["rtt_ms"], notes))
        ours = _cells(run, "s3mount", row)[1]
        for p in peers:
            r, bound = ratio(ours, _cells(run, p, row)[1], kind)
            line.append(f"{bound + ' ' if bound else ''}{r:.2f}x" if r else "-")
        table.append(line)
    cur = run["sizes"]
    out = [f"== RTT {run['rtt_ms']} ms: figures (rates: higher is better; s: lower is better);"
           " ratios > 1 mean s3mount is better: s3mount/peer for rates, peer/s3mount for times"
           f"\n   ls of {cur['dir']} entries; {cur['small']} files read, {cur['creates']} created,"
           f" {cur['removes']} removed", _table(table)]
    # requests and peak RSS
    limit_mib = budget_mib + 64
    in_budget = ["s3m in budget"] if "s3mount" in systems else []
    table = [["workload", ""] + [f"req {SHORT.get(s, 's3mount')}" for s in systems] +
             [f"MiB {SHORT.get(s, 's3mount')}" for s in systems] + in_budget]
    for row in rows_present:
        line = [row, ""]
        for s in systems:
            _, res = _cells(run, s, row)
            req = res and res.get("requests")
            line.append(str(req["total"]) if req else "-")
        for s in systems:
            entry, res = _cells(run, s, row)
            kib = entry and (entry.get("vmhwm_kib") or entry.get("maxrss_kib"))
            line.append(f"{kib / 1024:.0f}" if kib and (res or entry.get("error")) else "-")
        if in_budget:
            entry, res = _cells(run, "s3mount", row)
            kib = entry and entry.get("vmhwm_kib")
            if not kib or not (res or entry.get("error")):
                line.append("-")
            elif kib / 1024 <= limit_mib:
                line.append("yes")
            else:
                line.append(f"NO (+{kib / 1024 - limit_mib:.0f})")
                notes.append(f"{row} (RTT {run['rtt_ms']} ms): s3mount's peak RSS "
                             f"{kib / 1024:.0f} MiB is over its budget + 64 MiB "
                             f"({limit_mib:.0f} MiB)")
        table.append(line)
    out += [f"-- RTT {run['rtt_ms']} ms: S3 requests counted at the proxy; peak RSS in MiB "
            "(daemon VmHWM before unmount; limit: the client's maxrss)"
            + (f"; s3m in budget: s3mount's peak <= cache_size + write_buffer + 64 MiB = "
               f"{limit_mib:.0f} MiB" if in_budget else ""), _table(table)]
    limit_ls = _cells(run, "limit", "ls_cold")[1]
    if limit_ls and limit_ls["extra"].get("list_only_s") is not None:
        notes.append(f"limit ls_cold (RTT {run['rtt_ms']} ms) is LIST + one HEAD per object; "
                     f"the LIST alone took {limit_ls['extra']['list_only_s']:.3f} s")
    return "\n".join(out)


def header(env, args, sizes, setup_s):
    lines = [
        f"s3mount performance suite, {env['date']}; {env['nproc']} cores, {env['ram_gib']} GiB"
        f" RAM, Linux {env['kernel']}",
        f"server: {env['server']}; latency proxy: RTT {', '.join(map(str, args.latencies))} ms",
        f"s3mount {env['s3mount']}",
        f"s3fs: {env['s3fs']}; rclone: {env['rclone']}; fio: {env['fio']}",
        f"data ({'quick' if args.quick else 'full'}): {sizes['large'] >> 20} MiB object, "
        f"{sizes['dir']}-entry dir, {sizes['small']} files of 4-16 KiB, "
        f"{sizes['write_mib']} MiB write, {sizes['creates']} creates, {sizes['removes']} "
        f"removes of 4 KiB, fio {sizes['fio_s']} s; uploaded in {setup_s:.0f} s",
        f"caps: create_small, small_cat and rm_small stop after {sizes['cell_s']:g} s (figure:"
        f" files done / elapsed, with the count when capped); cold ls -l after "
        f"{sizes['ls_s']:g} s ('> CAP', ls_warm then skipped)"
        + (f"; at RTT > 0 the per-file workloads use 1/{args.rtt_scale} of the files"
           if args.rtt_scale > 1 and any(args.latencies) else ""),
    ]
    lines += [f"  {s}: {OPTIONS[s]}" for s in args.systems]
    if args.s3mount_opts:
        lines.append(f"  s3mount extra options: {','.join(args.s3mount_opts)}")
    return "\n".join(lines)


def time_summary(timing):
    lines = ["time spent:"]
    for key, secs in timing.items():
        lines.append(f"  {key}: {secs:.0f} s")
    return "\n".join(lines)
