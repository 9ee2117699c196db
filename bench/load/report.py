"""From the request log, the RSS samples and the publish's times to the one table.

Pure functions over plain rows, so they can be checked by hand (bench/load/test_report.py).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

# the officials' clicks: the interactive callbacks the p95 goal is about
INTERACTIVE = ("overview", "drill", "kpi_switch", "services", "spending", "projects", "forecast")
OTHER = ("login", "open cockpit", "briefing page", "briefing export", "wall open", "wall /api/screen")
PHASES = ("before", "during", "after")
NOT_SERVER = ("publish CLI", "locust")  # sampled beside the server, not part of it
MB = 2**20


@dataclass(frozen=True)
class Event:
    start: float  # epoch seconds
    kind: str  # "interaction" or the HTTP method
    name: str
    ms: float
    ok: bool
    error: str = ""


def read_log(path) -> list[Event]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 5:
                out.append(Event(float(parts[0]), parts[1], parts[2], float(parts[3]), parts[4] == "1",
                                 parts[5] if len(parts) > 5 else ""))
    return out


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (the smallest value with at least q % of the values at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def phase_of(t: float, steady_from: float, publish_at: float | None, during: float) -> str | None:
    """before (steady state until the publish starts), during (publish start → +during s), after;
    None for the ramp-up (users still logging in)."""
    if t < steady_from:
        return None
    if publish_at is None or t < publish_at:
        return "before"
    return "during" if t < publish_at + during else "after"


@dataclass(frozen=True)
class Stats:
    n: int
    p50: float | None
    p95: float | None
    errors: int

    def cell(self) -> str:
        if self.n == 0:
            return "—"
        return f"{self.p50:.0f} / {self.p95:.0f} ms · n={self.n} · {self.errors} err"


def stats(events: list[Event]) -> Stats:
    times = [e.ms for e in events]
    return Stats(len(events), percentile(times, 50), percentile(times, 95), sum(not e.ok for e in events))


def by_phase(events: list[Event], steady_from: float, publish_at: float | None, during: float,
             kind: str = "interaction") -> dict[tuple[str, str], Stats]:
    """(name, phase) → Stats of the events of ``kind``; also ("all interactive", phase)."""
    groups: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for e in events:
        if e.kind != kind:
            continue
        ph = phase_of(e.start, steady_from, publish_at, during)
        if ph is None:
            continue
        groups[(e.name, ph)].append(e)
        if e.name in INTERACTIVE:
            groups[("all interactive", ph)].append(e)
    return {k: stats(v) for k, v in groups.items()}


def throughput(events: list[Event], start: float, end: float, kind: str | None = None) -> float:
    """Events (of ``kind``; every request when None) started in [start, end) per second."""
    if end <= start:
        return 0.0
    n = sum(1 for e in events if start <= e.start < end and ((kind is None and e.kind != "interaction")
                                                              or e.kind == kind))
    return n / (end - start)


def spike(events: list[Event], publish_at: float, before_p95: float, *, window: float = 10.0,
          horizon: float = 180.0) -> tuple[float | None, float | None]:
    """(the worst p95 of the interactive clicks in ``window``-second windows from the publish's start,
    seconds from the publish's start until every later window is back within max(1.5 × before, before
    + 50 ms)); None where there is nothing to say."""
    limit = max(1.5 * before_p95, before_p95 + 50.0)
    windows = []
    t = publish_at
    while t < publish_at + horizon:
        inside = [e.ms for e in events if e.kind == "interaction" and e.name in INTERACTIVE
                  and t <= e.start < t + window]
        if inside:
            windows.append((t - publish_at, percentile(inside, 95)))
        t += window
    if not windows:
        return None, None
    worst = max(p for _, p in windows)
    settled = 0.0
    for offset, p95 in windows:
        if p95 > limit:
            settled = offset + window
    return worst, settled


def rss_summary(rows: list[tuple[float, int, str, int]]) -> list[tuple[str, str]]:
    """(label, "median / peak MB") per long-lived process (numbered within its kind in the order first
    seen: pids differ between runs), then the peak of each transient kind's sum at one sample, and
    the sum over all server processes."""
    per_pid: dict[tuple[str, int], list[int]] = defaultdict(list)
    first_seen: dict[tuple[str, int], float] = {}
    per_sample_role: dict[tuple[float, str], int] = defaultdict(int)
    per_sample_all: dict[float, int] = defaultdict(int)
    for t, pid, role, rss in rows:
        per_pid[(role, pid)].append(rss)
        first_seen.setdefault((role, pid), t)
        per_sample_role[(t, role)] += rss
        if role not in NOT_SERVER:
            per_sample_all[t] += rss
    out = []
    transient = ("export job", "chromium (export charts)", *NOT_SERVER)
    numbered: dict[str, int] = defaultdict(int)
    for role, pid in sorted(per_pid, key=lambda k: (k[0], first_seen[k])):
        if role in transient:
            continue
        numbered[role] += 1
        values = per_pid[(role, pid)]
        out.append((f"RSS {role} {numbered[role]}", f"{percentile(values, 50) / MB:.0f} / {max(values) / MB:.0f} MB"))
    for role in transient:
        sums = [v for (_t, r), v in per_sample_role.items() if r == role]
        if sums:
            out.append((f"RSS {role} (peak of the sum)", f"{max(sums) / MB:.0f} MB"))
    if per_sample_all:
        values = list(per_sample_all.values())
        out.append(("RSS all server processes (sum)", f"{percentile(values, 50) / MB:.0f} / {max(values) / MB:.0f} MB"))
    return out


def cpu_cores(cpu: list[tuple[float, int, str, float]], machine: list[tuple[float, float]], start: float,
              end: float) -> dict[str, float]:
    """Cores used in [start, end] by each kind of process (the growth of each process's CPU time
    between its first and last sample in the span, summed per kind, ÷ the span) and by the machine."""
    span = end - start
    if span <= 0:
        return {}
    first: dict[int, tuple[str, float]] = {}
    last: dict[int, float] = {}
    for t, pid, role, seconds in cpu:
        if start <= t <= end:
            first.setdefault(pid, (role, seconds))
            last[pid] = seconds
    out: dict[str, float] = defaultdict(float)
    for pid, (role, seconds) in first.items():
        out[role] += (last[pid] - seconds) / span
    inside = [(t, busy) for t, busy in machine if start <= t <= end]
    if len(inside) >= 2 and inside[-1][0] > inside[0][0]:
        out["machine"] = (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])
    return dict(out)


def cpu_cell(cores: dict[str, float], machine_cores: int) -> str:
    """"workers 0.93 · export job 0.10 · locust 0.35 · machine 1.95 of 2" (kinds under 0.01 left out)."""
    short = {"gunicorn worker": "workers", "gunicorn master": "master", "chromium (export charts)": "chromium"}
    parts = [f"{short.get(k, k)} {v:.2f}" for k, v in sorted(cores.items(), key=lambda kv: -kv[1])
             if k != "machine" and v >= 0.01]
    if "machine" in cores:
        parts.append(f"machine {cores['machine']:.2f} of {machine_cores}")
    return " · ".join(parts) or "—"


def table(columns: list[str], rows: list[tuple[str, str, list[str]]]) -> str:
    """A markdown table: measure | phase | one column per configuration."""
    head = ["measure", "phase", *columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for measure, phase, cells in rows:
        lines.append("| " + " | ".join([measure, phase, *cells]) + " |")
    return "\n".join(lines)
