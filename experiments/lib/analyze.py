#!/usr/bin/python3
"""Turn the raw measurements of experiments/run into results/<name>.csv (measured and
expected side by side), one PNG per experiment (gnuplot, experiments/plot/<name>.gp) and
the result sections of docs/experiments.md.

usage: analyze.py --results DIR --plots DIR [--docs FILE --img DIR] [--check] NAME...

Only the standard library: this runs with Debian's python3 and nothing else.
"""
import argparse
import csv
import datetime
import math
import os
import re
import shutil
import subprocess
import sys

# The kernel's nice-to-weight table: sched_prio_to_weight[40] in kernel/sched/core.c
# (Linux 2.6.23 .. 6.x; nice -20 .. 19). Each step is ~1.25x: "10% effect" per nice level.
SCHED_PRIO_TO_WEIGHT = [
    88761, 71755, 56483, 46273, 36291,  # -20
    29154, 23254, 18705, 14949, 11916,  # -15
    9548, 7620, 6100, 4904, 3906,       # -10
    3121, 2501, 1991, 1586, 1277,       # -5
    1024, 820, 655, 526, 423,           # 0
    335, 272, 215, 172, 137,            # 5
    110, 87, 70, 56, 45,                # 10
    36, 29, 23, 18, 15,                 # 15
]


def nice_weight(n):
    return SCHED_PRIO_TO_WEIGHT[int(n) + 20]


# RT throttling: sched_rt_runtime_us / sched_rt_period_us (950000 / 1000000 by default)
RT_SHARE = 0.95
# the kernel monitor's default scan period (monitor-kmod/main.c, scan_interval_ms)
MONITOR_SCAN_S = 0.1
# io_hog sleep mode: 500 us of work every 10 ms
IO_HOG_SHARE = 0.05


def read_raw(results, name):
    path = os.path.join(results, "raw", name + ".csv")
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_csv(results, name, fields, rows):
    path = os.path.join(results, name + ".csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for r in rows:
            w.writerow([fmt(r[k]) for k in fields])
    return path


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return "%.3g" % v if abs(v) < 10 else "%.1f" % v if abs(v) < 1000 else "%d" % round(v)
    return str(v)


def md_table(fields, rows, headers=None):
    headers = headers or fields
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        out.append("| " + " | ".join(fmt(r[k]) for k in fields) + " |")
    return "\n".join(out)


def num(s):
    return float(s) if s not in (None, "", "null") else float("nan")


def ts(s):
    """RFC 3339 with nanoseconds -> seconds since the epoch (float)."""
    if not s or s == "null":
        return float("nan")
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", s)
    if not m:
        return float("nan")
    base = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    return base + (float("0." + m.group(2)) if m.group(2) else 0.0)


def gmean_err(vals):
    """geometric mean of measured/expected, and the mean absolute deviation from 1 in %"""
    vals = [v for v in vals if v > 0 and not math.isnan(v)]
    if not vals:
        return float("nan"), float("nan")
    g = math.exp(sum(math.log(v) for v in vals) / len(vals))
    dev = 100 * sum(abs(v - 1) for v in vals) / len(vals)
    return g, dev


# --- one function per experiment: raw rows -> (csv fields, rows, markdown, summary) ---------

def an_nice(raw, results):
    rows = []
    for r in raw:
        na, nb = int(r["nice_a"]), int(r["nice_b"])
        wa, wb = nice_weight(na), nice_weight(nb)
        a, b = num(r["cpu_a_us"]), num(r["cpu_b_us"])
        share = 100 * b / (a + b) if a + b > 0 else float("nan")
        exp_share = 100 * wb / (wa + wb)
        ratio = b / a if a > 0 else float("nan")
        rows.append(dict(variant=r["variant"], nice_a=na, nice_b=nb, weight_a=wa, weight_b=wb,
                         cpu_a_ms=a / 1000, cpu_b_ms=b / 1000, wall_ms=num(r["wall_us"]) / 1000,
                         share_b_pct=share, expected_share_b_pct=exp_share, ratio_b_a=ratio,
                         expected_ratio_b_a=wb / wa, measured_over_expected=ratio / (wb / wa)))
    # the same two containers in the VM (cgroup v2 with the cpu controller)
    for r in read_raw(results, "nicevm") or []:
        na, nb = int(r["nice_a"]), int(r["nice_b"])
        wa, wb = nice_weight(na), nice_weight(nb)
        a, b = num(r["usage_a_us"]), num(r["usage_b_us"])
        ratio = b / a if a > 0 else float("nan")
        rows.append(dict(variant="containers-vm", nice_a=na, nice_b=nb, weight_a=wa, weight_b=wb,
                         cpu_a_ms=a / 1000, cpu_b_ms=b / 1000, wall_ms=num(r["wall_us"]) / 1000,
                         share_b_pct=100 * b / (a + b) if a + b > 0 else float("nan"),
                         expected_share_b_pct=100 * wb / (wa + wb), ratio_b_a=ratio,
                         expected_ratio_b_a=wb / wa, measured_over_expected=ratio / (wb / wa)))
    fields = ["variant", "nice_a", "nice_b", "weight_a", "weight_b", "cpu_a_ms", "cpu_b_ms",
              "wall_ms", "share_b_pct", "expected_share_b_pct", "ratio_b_a",
              "expected_ratio_b_a", "measured_over_expected"]
    # the expected curve for the plot: every nice level 0..19
    with open(os.path.join(results, "nice_expected.csv"), "w") as f:
        f.write("nice_b,weight_b,expected_share_b_pct\n")
        for n in range(0, 20):
            f.write("%d,%d,%.4f\n" % (n, nice_weight(n), 100 * nice_weight(n) / (1024 + nice_weight(n))))
    summary = []
    # The seeds' scenario: equal work W (solo time T) at nice 0 and 15 on one
    # CPU. The nice-0 one runs at share w0/(w0+w15) until it is done, at
    # T*(w0+w15)/w0; the other finishes the remaining work alone, at 2T.
    seed = read_raw(results, "nice_seed") or []
    by = {int(r["nice"]): r for r in seed}
    if 0 in by and 15 in by:
        t = num(by[0]["solo_ms"]) / 1000
        w0, w15 = nice_weight(0), nice_weight(15)
        exp0, exp15 = t * (w0 + w15) / w0, 2 * t
        got0, got15 = num(by[0]["elapsed_ms"]) / 1000, num(by[15]["elapsed_ms"]) / 1000
        summary.append("seed scenario (two containers, %.0f s of CPU work each, one CPU): nice 0 "
                       "finished in %.1f s (table: %.1f s), nice 15 in %.1f s (table: %.1f s)."
                       % (t, got0, exp0, got15, exp15))
    for v in ("same-container", "containers", "containers-vm"):
        sel = [r for r in rows if r["variant"] == v and r["nice_b"] != 0]
        if sel:
            g, dev = gmean_err([r["measured_over_expected"] for r in sel])
            worst = max(sel, key=lambda r: r["nice_b"])
            summary.append("%s: measured/expected ratio of CPU time averages %.2f (mean deviation "
                           "%.0f%%); at nice %d the niced hog got %.1f%% of the CPU, the table "
                           "predicts %.1f%%." % (v, g, dev, worst["nice_b"], worst["share_b_pct"],
                                                 worst["expected_share_b_pct"]))
    return fields, rows, summary


def an_weight(raw, results):
    rows = []
    for r in raw:
        wa, wb = int(r["weight_a"]), int(r["weight_b"])
        a, b = num(r["usage_a_us"]), num(r["usage_b_us"])
        ratio = b / a if a > 0 else float("nan")
        rows.append(dict(weight_a=wa, weight_b=wb, cpu_a_ms=a / 1000, cpu_b_ms=b / 1000,
                         wall_ms=num(r["wall_us"]) / 1000,
                         share_b_pct=100 * b / (a + b) if a + b > 0 else float("nan"),
                         expected_share_b_pct=100 * wb / (wa + wb), ratio_b_a=ratio,
                         expected_ratio_b_a=wb / wa, measured_over_expected=ratio / (wb / wa)))
    fields = ["weight_a", "weight_b", "cpu_a_ms", "cpu_b_ms", "wall_ms", "share_b_pct",
              "expected_share_b_pct", "ratio_b_a", "expected_ratio_b_a", "measured_over_expected"]
    sel = [r for r in rows if r["weight_b"] != r["weight_a"]]
    summary = []
    if sel:
        g, dev = gmean_err([r["measured_over_expected"] for r in sel])
        top = max(rows, key=lambda r: r["weight_b"])
        summary.append("Measured/expected CPU-time ratio averages %.2f (mean deviation %.0f%%); at "
                       "weight %d against 100 the light container still got %.2f%% of the CPU "
                       "(expected %.2f%%)." % (g, dev, top["weight_b"], 100 - top["share_b_pct"],
                                               100 - top["expected_share_b_pct"]))
    return fields, rows, summary


def an_quota(raw, results):
    rows = []
    for r in raw:
        pct = int(r["quota_pct"])
        u, w = num(r["usage_us"]), num(r["wall_us"])
        ach = 100 * u / w if w > 0 else float("nan")
        per = num(r["nr_periods"])
        rows.append(dict(quota_pct=pct, quota_us=int(r["quota_us"]), cpu_ms=u / 1000, wall_ms=w / 1000,
                         achieved_pct=ach, measured_over_expected=ach / pct,
                         nr_periods=int(per), nr_throttled=int(num(r["nr_throttled"])),
                         throttled_pct_of_periods=100 * num(r["nr_throttled"]) / per if per > 0 else float("nan")))
    fields = ["quota_pct", "quota_us", "cpu_ms", "wall_ms", "achieved_pct", "measured_over_expected",
              "nr_periods", "nr_throttled", "throttled_pct_of_periods"]
    summary = []
    if rows:
        g, dev = gmean_err([r["measured_over_expected"] for r in rows if r["quota_pct"] < 100])
        full = [r for r in rows if r["quota_pct"] == 100]
        s = "Below 100%% the achieved CPU averages %.2f of the quota (mean deviation %.0f%%)." % (g, dev)
        if full:
            s += " At a quota of one whole CPU the single-threaded hog got %.1f%% of a CPU." % full[0]["achieved_pct"]
        summary.append(s)
    return fields, rows, summary


LAT_DESC = {
    "alone": "io_hog alone on CPU 0",
    "same": "+ 2 cpu_hog containers, same weight (100)",
    "nice19": "+ 2 cpu_hog containers at --nice 19",
    "weight1": "+ 2 cpu_hog containers at --cpu-weight 1",
}


def an_latency(raw, results):
    rows = []
    alone = None
    for r in raw:
        if r["scenario"] == "alone":
            alone = r
    for i, r in enumerate(raw):
        rows.append(dict(idx=i, scenario=r["scenario"], setup=LAT_DESC.get(r["scenario"], r["scenario"]),
                         p50_us=int(r["p50_us"]), p90_us=int(r["p90_us"]), p99_us=int(r["p99_us"]),
                         max_us=int(r["max_us"]), samples=int(r["samples"]),
                         ideal_p50_us=int(alone["p50_us"]) if alone else "",
                         ideal_p99_us=int(alone["p99_us"]) if alone else ""))
    fields = ["scenario", "setup", "p50_us", "p90_us", "p99_us", "max_us", "samples",
              "ideal_p50_us", "ideal_p99_us"]
    write_csv(results, "latency_plot", ["idx"] + fields, rows)
    summary = []
    by = {r["scenario"]: r for r in rows}
    if "alone" in by and "same" in by:
        s = "p99 wake-up latency: %d us alone, %d us next to two equal cpu_hogs" % (
            by["alone"]["p99_us"], by["same"]["p99_us"])
        if "nice19" in by:
            s += ", %d us when they run at nice 19" % by["nice19"]["p99_us"]
        if "weight1" in by:
            s += ", %d us when they have cpu.weight 1" % by["weight1"]["p99_us"]
        summary.append(s + ".")
    return fields, rows, summary


def an_rr(raw, results):
    # The expected times are for an otherwise idle CPU: they start from the CPU time the
    # work takes (cpu_ms of the alone run), not from its wall time, which includes
    # whatever else ran on that CPU of the host.
    t1 = None
    for r in raw:
        if r["scenario"] == "alone":
            t1 = num(r["cpu_ms"])
    rows = []
    for i, r in enumerate(raw):
        sc, wl = r["scenario"], r["workload"]
        if sc == "alone":
            exp = t1
        elif sc == "cfs":
            # two equal hogs share the CPU with io_hog's 5%: both finish at about 2 T1
            exp = 2 * t1 / (1 - IO_HOG_SHARE)
        elif wl == "A":
            # SCHED_RR runs until done, less the 5% RT throttling leaves to CFS tasks
            exp = t1 / RT_SHARE
        else:
            exp = 2 * t1 / (1 - IO_HOG_SHARE)
        el = num(r["elapsed_ms"])
        label = {"alone": "A alone", "cfs": "%s, CFS+CFS" % wl,
                 "rr": "A, SCHED_RR" if wl == "A" else "B, next to RR"}[sc]
        rows.append(dict(idx=i, label=label, scenario=sc, workload=wl, policy=r["policy"], work=int(r["work"]),
                         elapsed_ms=el, expected_ms=exp, measured_over_expected=el / exp if exp else float("nan"),
                         cpu_ms=num(r["cpu_ms"]),
                         b_work_pct_while_a=(100 * num(r["b_work_while_a"]) / int(r["work"])
                                             if r["b_work_while_a"] not in ("", None) else float("nan")),
                         io_p50_us=num(r["io_p50_us"]), io_p99_us=num(r["io_p99_us"]), io_max_us=num(r["io_max_us"])))
    fields = ["label", "scenario", "workload", "policy", "work", "elapsed_ms", "expected_ms",
              "measured_over_expected", "cpu_ms", "b_work_pct_while_a", "io_p50_us", "io_p99_us", "io_max_us"]
    write_csv(results, "rr_plot", ["idx"] + fields, rows)
    summary = []
    by = {(r["scenario"], r["workload"]): r for r in rows}
    if ("rr", "A") in by and ("cfs", "A") in by:
        a, c = by[("rr", "A")], by[("cfs", "A")]
        summary.append("A finished in %.0f ms under SCHED_RR against %.0f ms sharing under CFS "
                       "(alone: %.0f ms for %.0f ms of CPU); while the RR hog ran, B did %.1f%% of its work (%.1f%% "
                       "with both CFS) and io_hog's p99 wake-up latency went from %.0f us to %.0f us."
                       % (a["elapsed_ms"], c["elapsed_ms"], by[("alone", "A")]["elapsed_ms"], t1, a["b_work_pct_while_a"], c["b_work_pct_while_a"],
                          c["io_p99_us"], a["io_p99_us"]))
    return fields, rows, summary


def an_memory(raw, results):
    rows = []
    for r in raw:
        mode, rate, limit = r["mode"], num(r["rate_mib_s"]), num(r["limit_bytes"])
        t_kill = ts(r["finished_ts"]) - ts(r["first_rss_ts"])
        killed = r["exit_code"] not in ("", "null", "0") and r["reason"] != "running"
        if mode == "monitor":
            at = num(r["kill_rss_bytes"])
        elif mode == "soft":
            at = num(r["peak_bytes"])
        else:
            at = num(r["last_rss_bytes"])
        # time from memory_hog's first report (1 MiB) to the limit at this rate
        exp_t = (limit / 2**20 - 1) / rate if mode != "soft" else float("nan")
        exp_over = rate * MONITOR_SCAN_S + 1 if mode == "monitor" else 0.0
        rows.append(dict(mode=mode, rate_mib_s=int(rate), limit_mib=limit / 2**20, killed="yes" if killed else "no",
                         exit_code=r["exit_code"], reason=r["reason"],
                         time_to_kill_ms=1000 * t_kill if killed else float("nan"),
                         expected_time_ms=1000 * exp_t, mem_at_end_mib=at / 2**20,
                         overshoot_mib=(at - limit) / 2**20, expected_max_overshoot_mib=exp_over,
                         high_events=r["high_events"], last_rss_mib=num(r["last_rss_bytes"]) / 2**20, how=r["how"]))
    fields = ["mode", "rate_mib_s", "limit_mib", "killed", "exit_code", "reason", "time_to_kill_ms",
              "expected_time_ms", "mem_at_end_mib", "overshoot_mib", "expected_max_overshoot_mib",
              "high_events", "last_rss_mib", "how"]
    for mode in ("cgroup", "soft", "monitor"):
        write_csv(results, "memory_" + mode, fields, [r for r in rows if r["mode"] == mode])
    summary = []
    cg = [r for r in rows if r["mode"] == "cgroup"]
    mon = [r for r in rows if r["mode"] == "monitor"]
    soft = [r for r in rows if r["mode"] == "soft"]
    if cg:
        summary.append("--mem: killed in %d of %d runs (reason %s); RSS at the kill at most %.1f MiB "
                       "for a %g MiB limit." % (sum(r["killed"] == "yes" for r in cg), len(cg),
                                                "/".join(sorted({r["reason"] for r in cg})),
                                                max(r["mem_at_end_mib"] for r in cg), cg[0]["limit_mib"]))
    if soft:
        summary.append("--mem-soft: killed in %d of %d runs; memory.peak exceeded memory.high by at "
                       "most %.1f MiB." % (sum(r["killed"] == "yes" for r in soft), len(soft),
                                           max(r["overshoot_mib"] for r in soft)))
    if mon:
        summary.append("kernel monitor (via %s): killed in %d of %d runs; RSS at the kill exceeded the "
                       "hard limit by %s MiB at %s MiB/s." % (
                           mon[0]["how"], sum(r["killed"] == "yes" for r in mon), len(mon),
                           ", ".join(fmt(r["overshoot_mib"]) for r in mon),
                           ", ".join(str(r["rate_mib_s"]) for r in mon)))
    else:
        summary.append("kernel monitor: not measured (no monitor.ko in this run).")
    return fields, rows, summary


ANALYZERS = {"nice": an_nice, "weight": an_weight, "quota": an_quota, "latency": an_latency,
             "rr": an_rr, "memory": an_memory}
ORDER = ["nice", "weight", "quota", "latency", "rr", "memory"]


def plot(name, results, plots):
    gp = os.path.join(plots, name + ".gp")
    png = os.path.join(results, name + ".png")
    subprocess.run(["gnuplot", "-e", "dir='%s'; plots='%s'" % (results, plots), gp], check=True)
    if not os.path.exists(png) or os.path.getsize(png) < 1000:
        raise RuntimeError("gnuplot made no usable %s" % png)
    return png


def read_meta(results):
    meta = {}
    path = os.path.join(results, "raw", "meta.txt")
    if os.path.exists(path):
        for line in open(path):
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    return meta


def replace_section(text, name, body):
    start, end = "<!-- results:%s -->" % name, "<!-- /results:%s -->" % name
    pat = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pat.search(text):
        raise RuntimeError("docs: no %s ... %s markers" % (start, end))
    return pat.sub(lambda m: start + "\n" + body.rstrip("\n") + "\n" + end, text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--plots", required=True)
    ap.add_argument("--docs")
    ap.add_argument("--img")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    names = a.names or ORDER
    ok = True
    sections = {}
    # With --docs, every experiment that has results is (re)rendered, not only the ones run.
    todo = [n for n in ORDER if n in names or (a.docs and read_raw(a.results, n))]
    for name in todo:
        raw = read_raw(a.results, name)
        if not raw:
            print("analyze: %s: no measurements" % name, file=sys.stderr)
            ok = False
            continue
        try:
            fields, rows, summary = ANALYZERS[name](raw, a.results)
            write_csv(a.results, name, fields, rows)
            png = plot(name, a.results, a.plots)
        except Exception as e:  # report and go on with the others
            print("analyze: %s: %s" % (name, e), file=sys.stderr)
            ok = False
            continue
        print("analyze: %s: %d rows -> %s.csv, %s" % (name, len(rows), name, os.path.basename(png)))
        for s in summary:
            print("  " + s)
        if a.check and name == "nice":
            for r in rows:
                if r["variant"] == "same-container" and r["nice_b"] >= 5:
                    q = r["measured_over_expected"]
                    if not (q > 1 / 3 and q < 3):
                        print("analyze: check failed: nice %d ratio %.2f of the expected" % (r["nice_b"], q),
                              file=sys.stderr)
                        ok = False
        md = md_table([f for f in fields], rows)
        body = "Measured by `experiments/run %s`:\n\n%s\n\n![%s](img/experiments/%s.png)\n" % (
            name, md, name, name)
        if summary:
            body += "\n" + "\n".join("- " + s for s in summary) + "\n"
        sections[name] = (body, png)
    if a.docs and sections:
        meta = read_meta(a.results)
        text = open(a.docs).read()
        os.makedirs(a.img, exist_ok=True)
        for name, (body, png) in sections.items():
            text = replace_section(text, name, body)
            shutil.copy(png, os.path.join(a.img, name + ".png"))
        m = ("Results from runs up to %s, `%s`; host kernel %s (%s CPUs, %s); VM kernel %s "
             "(qemu TCG, 2 vCPUs); the last invocation of the runner took %s s.\n" % (
                 meta.get("date", "?"), meta.get("minirt", "?"), meta.get("host_kernel", "?"),
                 meta.get("host_cpus", "?"), meta.get("host_cpu_model", "?"),
                 meta.get("vm_kernel", "?") or "?", meta.get("seconds", "?")))
        text = replace_section(text, "meta", m)
        with open(a.docs, "w") as f:
            f.write(text)
        print("analyze: updated %s and %s/" % (a.docs, a.img))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
