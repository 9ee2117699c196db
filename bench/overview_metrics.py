"""Time a full overview: every KPI for the province, its 11 cities and its 100 counties, one month.

    python bench/overview_metrics.py [--scales 1 10] [--month 2026-10] [--runs 5] [--dir /tmp/cockpit-bench]

Demo databases are built into --dir once and reused. Prints per scale the median and min
wall time of the whole overview (one engine call per supported period) and the ratio to 1×.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data import db  # noqa: E402
from data.demo import build_demo  # noqa: E402
from data.scope import Scope  # noqa: E402
from metrics.cache import clear_all  # noqa: E402
from metrics.catalogue import load_catalogue  # noqa: E402
from metrics.engine import compute  # noqa: E402
from metrics.regions import children, descendants  # noqa: E402


def full_overview(month: str, scope: Scope) -> int:
    cat = load_catalogue()
    codes = ["360000"] + [r.code for r in children("360000", scope=scope)]
    codes += [r.code for r in descendants("360000", "county", scope=scope)]
    by_period: dict[str, list[str]] = {}
    for k in cat.kpis.values():
        by_period.setdefault("ytd" if "ytd" in k.periods else k.periods[0], []).append(k.id)
    rows = 0
    for period, ids in by_period.items():
        rows += len(compute(ids, codes, month, period, scope=scope))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--month", default="2026-10")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/cockpit-bench")
    args = ap.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    scope = Scope.province("360000")
    base = None
    print(f"full overview: {len(load_catalogue().kpis)} KPIs × (1 province + 11 cities + 100 counties), "
          f"month {args.month}, {args.runs} runs after one warm-up")
    for scale in args.scales:
        path = Path(args.dir) / f"demo-x{scale}.duckdb"
        if not path.exists():
            t = time.perf_counter()
            build_demo(path, scale=scale)
            print(f"  built {path.name} in {time.perf_counter() - t:.1f} s")
        os.environ["COCKPIT_DB"] = str(path)
        db.reset_reader()
        rows = full_overview(args.month, scope)
        times = []
        for _ in range(args.runs):
            clear_all()  # cold: every engine result and lookup computed again
            t = time.perf_counter()
            full_overview(args.month, scope)
            times.append(time.perf_counter() - t)
        med = statistics.median(times)
        base = base or med
        size = path.stat().st_size / 1e6
        print(f"scale {scale:>2}: {rows} KPI×region values, median {med * 1000:8.1f} ms,"
              f" min {min(times) * 1000:8.1f} ms, ratio to first scale {med / base:5.2f}×, db {size:.0f} MB")


if __name__ == "__main__":
    main()
