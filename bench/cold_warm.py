"""A cold view against a warm one, now that the KPI results are computed at publish (issue #13 §4).

    python bench/cold_warm.py [--scale 1] [--months 8] [--dir /tmp/cockpit-cold-warm]

Every measurement runs in a fresh process (``COCKPIT_WARM=0``; the data layer opened with one
small query first, as a started server has), on the overview page's render function
(``pages.overview.layout``, which reads ``metrics.dashboard.overview_data``), 累计, for the province:

- cold: the first view of a month in a process (one process per month), and the first view of
  a further month in the same process (what each new month costs once the process has served);
  the same two with the results table ignored (computed, as before it);
- cold as served: a fresh process runs the start-up warm-up before its first request
  (``app.warm_before_serving``, from gunicorn's ``post_worker_init``; it reads what every view
  reads once and the latest month's rows, no other month), then the first view of each month;
- warm: the first view of each month after the warm-up also filled every month as it did before
  the results table (every month's snapshots and the province's overview of every month);
- repeat: the second view of the same month;
- a city's overview of each month, first viewed after either warm-up (the old one filled that
  month's snapshots but not that city's page);
- the engine's month snapshot (every KPI × every region) read from the results table, and
  computed as before (``_compute_frame``), cold; one KPI for the cities without the snapshot;
- publish: a one-month import (the services of the last month, edited) and a full rebuild
  (what ``publish.upgrade`` does when the catalogue or the engine changed), with the share
  of the results refresh.

Times are wall and CPU (every thread of the process): on a shared machine the CPU time is the
steadier figure.

The database is ``DIR/x{scale}/cockpit.duckdb``: built once by ``python -m data.demo --scale N``
(at 10× a cached build under /tmp is copied instead when there is one) and kept. Prints one table
with p50/p95 (ms) and the goals: cold within 1.5× of warm, p95 < 100 ms at 10×.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

KPI = "online_handling_rate"
# other benchmarks' 10× builds (bench/callback_latency.py, bench/intake_publish.py): copied, never written
CACHED_10X = ["/tmp/cockpit-bench/demo-x10.duckdb", "/tmp/intake-bench/x10/cockpit.duckdb",
              "/tmp/bench10/cockpit.duckdb", "/tmp/cockpit-bench-10x/cockpit.duckdb"]


# ---------------------------------------------------------------- children (one fresh process each)


def _viewer():
    from data.identity import Principal
    from data.scope import Scope
    from metrics.regions import root_region

    root = root_region()
    return Principal(kind="user", actor="基准测试", name="基准测试", role="leader", scope=Scope.province(root),
                     region_code=root)


def _timed(fn, *args) -> list[float]:
    """[wall ms, CPU ms] of one call. The CPU time of the process (every thread) is the steadier
    figure on a shared machine: waiting for a core shows in the wall time only."""
    t, c = time.perf_counter(), time.process_time()
    fn(*args)
    return [(time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000]


def _render(month: str, region: str | None = None) -> list[float]:
    from pages import overview

    return _timed(lambda: overview.layout(region=region, month=month, period="ytd", kpi=KPI))


def child_before(month: str, further: str) -> dict:
    """The first view of ``month`` and then of ``further`` with the results table ignored: the
    engine computes every snapshot and series, as it did before the table."""
    import app  # noqa: F401
    from metrics import results
    from metrics.regions import as_of
    from web.session import viewing_as

    results.ready = lambda: False
    as_of()
    with viewing_as(_viewer()):
        return {"cold": _render(month), "further": _render(further)}


def child_cold(month: str, further: str, other: str, third: str) -> dict:
    """First and second view of ``month``, then the first view of ``further`` (a month's first
    view in a process that has served one); the engine's snapshot of ``other`` read and
    computed; one KPI of ``third`` without the snapshot."""
    import app  # noqa: F401 — registers the pages
    from data.scope import Scope
    from metrics import engine, results
    from metrics.catalogue import load_catalogue
    from metrics.regions import as_of, children, region_tree, root_region
    from web.session import viewing_as

    as_of()  # the data layer is open, as on a started server
    out = {}
    with viewing_as(_viewer()):
        out["cold"] = _render(month)
        out["repeat"] = _render(month)
        out["further"] = _render(further)
    province = Scope.province(root_region())
    out["snapshot_read"] = _timed(engine._snapshot, other, "ytd", province)
    ids = tuple(k.id for k in load_catalogue().kpis.values() if "ytd" in k.periods)
    codes = tuple(r.code for r in region_tree(scope=province))
    out["snapshot_computed"] = _timed(engine._compute_frame, ids, codes, other, "ytd", province, ())
    cities = [r.code for r in children(root_region(), scope=province)]
    out["one_kpi"] = _timed(lambda: engine.compute([KPI], cities, third, "ytd", scope=province, snapshot=False))
    out["stored"] = results.ready()
    return out


def child_warm(mode: str, *months: str) -> dict:
    """The start-up warm-up a served process runs before its first request
    (``app.warm_before_serving``), then the first and second view of each month.

    ``mode`` ``all`` also fills what the warm-up filled before the results table (every month's
    snapshots and the province's overview of every month, every region's card series)."""
    import app
    from data.scope import Scope
    from metrics import dashboard
    from metrics.regions import as_of, region_tree, root_region
    from web.session import viewing_as

    first, last = as_of()
    scope = Scope.province(root_region())
    t = time.perf_counter()
    if mode == "all":
        dashboard.warm_caches(scope)
        dashboard._warm_every_month(scope, first, last, region_tree(scope=scope))
    else:  # what a served process runs before its first request (gunicorn's post_worker_init)
        os.environ["COCKPIT_WARM"] = "1"
        app.warm_before_serving()
    out = {"warm_up_s": time.perf_counter() - t, "first": [], "repeat": [], "city": []}
    cities = [r.code for r in region_tree(scope=scope) if r.level == "city"]
    with viewing_as(_viewer()):
        for i, m in enumerate(months):
            out["first"].append(_render(m))
            out["repeat"].append(_render(m))
            out["city"].append(_render(m, cities[i % len(cities)]))  # a city's first view of the month
    return out


def child_publish(kind: str) -> dict:
    """A one-month import (``month``) or a full rebuild (``full``), timed by phase; the import is
    published, the rebuild discarded (it changes nothing)."""
    import duckdb

    from data import db, versions
    from data.intake import publish as pub
    from metrics import materialize, results

    spent = {"results": 0.0, "aggregates": 0.0}
    cpu = time.process_time()

    def timed(module, name, key):
        real = getattr(module, name)

        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return real(*a, **k)
            finally:
                spent[key] += time.perf_counter() - t

        setattr(module, name, wrapper)

    timed(results, "refresh", "results")
    timed(materialize, "materialize", "aggregates")
    if kind == "full":
        t = time.perf_counter()
        prepared = pub.prepare({}, actor="基准测试", rebuild_aggregates=True)
        spent["prepare"] = time.perf_counter() - t
        spent["cpu"] = time.process_time() - cpu
        pub.discard(prepared.token)
        return spent
    current = versions.current(versions.store_for(db.pointer_path()))
    with duckdb.connect(str(current), read_only=True, config=db._CONFIG) as con:
        last = con.execute("SELECT max(month) FROM calendar").fetchall()[0][0]
        frame = con.execute("SELECT * FROM service_monthly WHERE month = ?", [last]).df()
    # 办件量 rises by one on every tenth row (with 办结 and 按时办结, so the nesting rules hold):
    # each round publishes a real change
    for col in ("applications", "completed", "completed_on_time"):
        frame.loc[frame.index[::10], col] += 1
    t = time.perf_counter()
    prepared = pub.prepare({"services": {"service_monthly": frame}}, actor="基准测试")
    spent["prepare"] = time.perf_counter() - t
    t = time.perf_counter()
    pub.publish(prepared, actor="基准测试")
    spent["publish"] = time.perf_counter() - t
    spent["cpu"] = time.process_time() - cpu
    spent["rows"] = len(frame)
    return spent


# ---------------------------------------------------------------- the parent


def _child(pointer: Path, *args: str) -> dict:
    env = {**os.environ, "COCKPIT_DB": str(pointer), "COCKPIT_WARM": "0", "COCKPIT_TODAY": "2026-12-01"}
    out = subprocess.run([sys.executable, __file__, "--child", *args], env=env, cwd=REPO, capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-4000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _database(scale: int, root: Path) -> Path:
    """The scale's demo database (built once, or seeded from a cached 10× build), upgraded so
    that it holds the results of this code."""
    pointer = root / f"x{scale}" / "cockpit.duckdb"
    pointer.parent.mkdir(parents=True, exist_ok=True)
    if not pointer.exists():
        cached = next((Path(p) for p in CACHED_10X if scale == 10 and Path(p).exists()), None)
        if cached is not None:
            print(f"copying the cached 10× build {cached} …", flush=True)
            shutil.copyfile(cached.resolve(), pointer)  # a plain file: adopted as version 1 at its first publish
        else:
            print(f"building the {scale}× demo …", flush=True)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "data.demo", "--db", str(pointer), "--scale", str(scale)],
                           cwd=REPO, check=True)
            print(f"  built in {time.perf_counter() - t:.0f} s", flush=True)
    env = {**os.environ, "COCKPIT_DB": str(pointer)}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from data.demo import refresh_aggregates; from data.db import "
                    "pointer_path; print(refresh_aggregates(pointer_path()))"], env=env, cwd=REPO, check=True,
                   capture_output=True)
    print(f"  up to date ({time.perf_counter() - t:.0f} s)", flush=True)
    return pointer


def _months(pointer: Path, n: int) -> list[str]:
    import duckdb

    with duckdb.connect(str(pointer.resolve()), read_only=True) as con:
        months = [r[0].strftime("%Y-%m") for r in con.execute("SELECT month FROM calendar ORDER BY 1").fetchall()]
    step = max(1, (len(months) - 1) // max(1, n - 1))
    picked = months[::-1][::step][:n]  # the last month first, then back in equal steps
    return picked


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="冷启动与预热后首屏耗时对比（结果表）")
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--months", type=int, default=8)
    ap.add_argument("--dir", default="/tmp/cockpit-cold-warm")
    ap.add_argument("--child", nargs="+")
    args = ap.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        fn = {"cold": child_cold, "before": child_before, "warm": child_warm, "publish": child_publish}[kind]
        result = fn(*rest)
        print(json.dumps(result))
        return 0
    pointer = _database(args.scale, Path(args.dir))
    months = _months(pointer, args.months)
    rows: dict[str, list[list[float]]] = {k: [] for k in ("cold", "repeat", "further", "snapshot_read",
                                                           "snapshot_computed", "one_kpi", "before",
                                                           "before_further")}
    for i, m in enumerate(months):
        other, third, further = (months[(i + k) % len(months)] for k in (1, 2, 3))
        res = _child(pointer, "cold", m, further, other, third)
        if not res.pop("stored"):
            raise RuntimeError("the database holds no current results table")
        for k, v in res.items():
            rows[k].append(v)
        print(f"  cold {m}: {res['cold'][0]:.0f} ms ({res['cold'][1]:.0f} ms CPU)", flush=True)
        before = _child(pointer, "before", m, further)
        rows["before"].append(before["cold"])
        rows["before_further"].append(before["further"])
    light = _child(pointer, "warm", "light", *months)
    print(f"  warm-up {light['warm_up_s']:.1f} s", flush=True)
    warm = _child(pointer, "warm", "all", *months)
    print(f"  warm-up of every month {warm['warm_up_s']:.1f} s", flush=True)
    publish = [_child(pointer, "publish", "month") for _ in range(2)]
    full = _child(pointer, "publish", "full")

    print()
    print(f"scale {args.scale}× · {len(months)} months ({months[-1]} … {months[0]}) · overview of the province, "
          f"累计, {KPI}")
    print(f"{'measurement':<62}{'n':>4}{'p50 ms':>10}{'p95 ms':>10}{'CPU p50':>10}{'CPU p95':>10}")
    table = [
        ("overview page, cold: fresh process, COCKPIT_WARM=0 (never served)", rows["cold"]),
        ("  … a further month's first view in that process", rows["further"]),
        ("  the same two without the results table (as before)", rows["before"]),
        ("  …", rows["before_further"]),
        ("overview page, cold: fresh process as served (warm-up first)", light["first"]),
        ("overview page, warm: every month warmed before (old warm-up)", warm["first"]),
        ("overview page, repeat view", rows["repeat"] + light["repeat"] + warm["repeat"]),
        ("a city's overview, first view after the start-up warm-up", light["city"]),
        ("a city's overview, first view after the old warm-up", warm["city"]),
        ("engine: month snapshot, read from kpi_results (cold)", rows["snapshot_read"]),
        ("engine: month snapshot, computed as before (cold)", rows["snapshot_computed"]),
        ("engine: one KPI × the cities without the snapshot (cold)", rows["one_kpi"]),
    ]
    for label, pairs in table:
        wall, cpu = [w for w, _ in pairs], [c for _, c in pairs]
        print(f"{label:<62}{len(pairs):>4}{statistics.median(wall):>10.1f}{_pct(wall, 0.95):>10.1f}"
              f"{statistics.median(cpu):>10.1f}{_pct(cpu, 0.95):>10.1f}")
    print(f"{'start-up warm-up before the first request, s':<62}{1:>4}{light['warm_up_s']:>10.1f}")
    print(f"{'  … plus every month as before the results table, s':<62}{1:>4}{warm['warm_up_s']:>10.1f}")
    for label, runs in (("publish: one-month import of the services (prepare + 发布), s", publish),
                        ("publish: full rebuild (upgrade's prepare), s", [full])):
        total = [r["prepare"] + r.get("publish", 0.0) for r in runs]
        print(f"{label:<62}{len(runs):>4}{statistics.median(total):>10.2f}{'':>10}"
              f"{statistics.median(r['cpu'] for r in runs):>10.2f}"
              f"   KPI results {statistics.median(r['results'] for r in runs):.2f} s, "
              f"aggregates {statistics.median(r['aggregates'] for r in runs):.2f} s")
    for label, cold in (("fresh process as served", light["first"]), ("COCKPIT_WARM=0", rows["cold"])):
        for n, what in ((0, "wall"), (1, "CPU")):
            c, w = [x[n] for x in cold], [x[n] for x in warm["first"]]
            print(f"cold ({label}) ÷ warm at p95, {what}: {_pct(c, 0.95) / _pct(w, 0.95):.2f} (goal ≤ 1.5); "
                  f"cold p95 {_pct(c, 0.95):.0f} ms (goal < 100 ms at 10×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
