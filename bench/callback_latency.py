"""p50/p95 latency of page callbacks against a running cockpit, at 1× and 10× demo scale.

    python bench/callback_latency.py [--scales 1 10] [--dir /tmp/cockpit-bench] [--rounds 3]

For each scale and start mode it starts ``app.py`` on a free port against that scale's
demo database, then POSTs the Dash page-render callback (what a click, a drill or a filter
change triggers) for a fixed, seeded sequence of interactions, and prints per interaction
kind the median and 95th percentile in ms, and the ratio to the first scale.

Start modes (``--modes``): ``cold`` starts with ``COCKPIT_WARM=0`` (nothing computed before
the first callback); ``warmed`` waits until the start-up warm-up has filled the month
snapshots (``/healthz``) and prints how long that took. The first pass of either still
meets every region's sparklines, alerts and figures for the first time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from data.demo import build_demo  # noqa: E402

CITIES = ["360100", "360200", "360300", "360400", "360500", "360600", "360700", "360800", "360900", "361000",
          "361100"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render(base: str, path: str, search: str) -> float:
    """POST the page-render callback for ``path?search``; return seconds."""
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.search"],
        "state": [],
    }
    req = urllib.request.Request(base + "/_dash-update-component", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as resp:
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}")
    return time.perf_counter() - t


def interactions(rng: random.Random, counties: list[str]) -> list[tuple[str, str, str]]:
    """(kind, path, search): the overview, drills to a city and a county, and filter changes."""
    seq = []
    for _ in range(12):
        city, county = rng.choice(CITIES), rng.choice(counties)
        month = rng.choice(["2026-10", "2026-09", "2026-06", "2025-12"])
        kpi = rng.choice(["online_handling_rate", "on_time_rate", "budget_execution_rate", "cloud_rate"])
        seq += [
            ("overview", "/", f"?month={month}"),
            ("drill", "/", f"?region={city}&month={month}"),
            ("drill", "/", f"?region={county}&month={month}"),
            ("filter", "/", f"?region={city}&month={month}&period=month"),
            ("filter", "/", f"?region={city}&month={month}&kpi={kpi}"),
        ]
    return seq


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--dir", default="/tmp/cockpit-bench")
    ap.add_argument("--rounds", type=int, default=2, help="passes over the sequence (later passes hit caches)")
    ap.add_argument("--modes", nargs="+", default=["cold", "warmed"], choices=["cold", "warmed"])
    args = ap.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    first = {}
    for scale in args.scales:
        path = Path(args.dir) / f"demo-x{scale}.duckdb"
        if not path.exists():
            build_demo(path, scale=scale)
        for mode in args.modes:
            run(path, scale, mode, args.rounds, first)


def wait_for_warm_up(base: str, limit: float = 900) -> float:
    """Seconds until /healthz says the warm-up is done."""
    t = time.perf_counter()
    while time.perf_counter() - t < limit:
        with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
            warm = json.loads(resp.read())["warm"]
        if warm["done"]:
            return warm["seconds"]
        time.sleep(1)
    raise RuntimeError("warm-up did not finish")


def run(path: Path, scale: int, mode: str, rounds: int, first: dict) -> None:
    port = _port()
    env = {**os.environ, "COCKPIT_DB": str(path), "COCKPIT_PORT": str(port),
           "COCKPIT_WARM": "0" if mode == "cold" else "1"}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        if mode == "warmed":
            print(f"scale {scale:>2} · warm-up at start took {wait_for_warm_up(base):.1f} s (server-side)")
        import duckdb

        con = duckdb.connect(str(path), read_only=True)
        rows = con.execute("SELECT code FROM region WHERE level = 'county' ORDER BY code").fetchall()
        counties = [r[0] for r in rows]
        con.close()
        seq = interactions(random.Random(7), counties)
        render(base, "/", "?month=2022-02")  # imports, first connection (a month the sequence never uses)
        for rnd in range(rounds):
            times: dict[str, list[float]] = {}
            for kind, p, q in seq:
                times.setdefault(kind, []).append(render(base, p, q))
            label = "first pass" if rnd == 0 else f"pass {rnd + 1} (repeated views)"
            print(f"scale {scale:>2} · {mode} start · {label}: {len(seq)} callbacks")
            for kind, ts in times.items():
                ts_ms = sorted(t * 1000 for t in ts)
                p95 = ts_ms[min(len(ts_ms) - 1, round(0.95 * (len(ts_ms) - 1)))]
                key = (mode, rnd, kind)
                first.setdefault(key, p95)
                print(f"   {kind:<9} n={len(ts_ms):>3}  p50 {statistics.median(ts_ms):7.1f} ms  p95 {p95:7.1f} ms"
                      f"  (p95 ratio to first scale {p95 / first[key]:4.2f}×)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)

if __name__ == "__main__":
    main()
