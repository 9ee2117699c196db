"""Benchmark the forecasting engine on the M1 monthly series.

Usage::

    python bench/forecast_m1.py [PATH_TO_m1_monthly.csv] [--limit N] [--workers 2]

Prints sMAPE / MASE for the engine, seasonal naive, Naive2 and statsforecast's AutoETS
(optional dev dependency, imported lazily), interval coverage, timings and ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# Single-threaded BLAS per worker: the fits use tiny matrices, and 2 workers x N BLAS threads
# oversubscribe the 2 cores (measured ~4x slower).  Must be set before numpy is imported.
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from metrics.forecast import forecast, mase, naive2, seasonal_naive, smape  # noqa: E402

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared/data/forecast-bench/m1_monthly.csv"
LEVELS = (80, 95)


def load(path: Path, limit: int | None):
    df = pd.read_csv(path)
    out = []
    for name, g in df.groupby("series", sort=False):
        g = g.sort_values("t")
        train = g.loc[g["split"] == "train", "value"].to_numpy(float)
        test = g.loc[g["split"] == "test", "value"].to_numpy(float)
        out.append((name, train, test))
        if limit and len(out) >= limit:
            break
    return out


def _engine_one(task):
    name, train, h = task
    idx = pd.period_range("2000-01", periods=len(train), freq="M")
    t0 = time.perf_counter()
    f = forecast(pd.Series(train, index=idx), h, LEVELS)
    dt = time.perf_counter() - t0
    return name, {c: f[c].to_numpy() for c in f.columns}, dt


def run_engine(series, workers: int):
    tasks = [(n, tr, len(te)) for n, tr, te in series]
    t0 = time.perf_counter()
    if workers > 1:
        with ProcessPoolExecutor(workers) as ex:
            res = list(ex.map(_engine_one, tasks, chunksize=4))
    else:
        res = [_engine_one(t) for t in tasks]
    wall = time.perf_counter() - t0
    return {n: f for n, f, _ in res}, wall, sum(d for _, _, d in res)


def run_autoets(series):
    try:
        from statsforecast.models import AutoETS
    except ImportError:
        return None, 0.0
    out = {}
    t0 = time.perf_counter()
    for name, train, test in series:
        r = AutoETS(season_length=12).forecast(train, h=len(test), level=list(LEVELS))
        out[name] = {"mean": r["mean"]}
        for L in LEVELS:
            out[name][f"lo{L}"] = r[f"lo-{L}"]
            out[name][f"hi{L}"] = r[f"hi-{L}"]
    return out, time.perf_counter() - t0


def scores(series, fcs):
    sm, ms = [], []
    cov = {L: [] for L in LEVELS}
    for name, train, test in series:
        f = fcs[name]
        sm.append(smape(test, f["mean"]))
        ms.append(mase(train, test, f["mean"], 12))
        for L in LEVELS:
            if f"lo{L}" in f:
                cov[L].append(np.mean((test >= f[f"lo{L}"]) & (test <= f[f"hi{L}"])))
    out = {"smape": float(np.mean(sm)), "mase": float(np.nanmean(ms))}
    for L in LEVELS:
        out[f"cov{L}"] = float(np.mean(cov[L])) if cov[L] else float("nan")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT_PATH))
    ap.add_argument("--limit", type=int, default=None, help="only the first N series")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-autoets", action="store_true")
    args = ap.parse_args(argv)

    series = load(Path(args.path), args.limit)
    print(f"M1 monthly: {len(series)} series, horizons {sorted({len(t) for _, _, t in series})}")

    timings = {}
    fcs = {}
    t0 = time.perf_counter()
    fcs["snaive"] = {n: {"mean": seasonal_naive(tr, len(te), 12)} for n, tr, te in series}
    timings["snaive"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fcs["naive2"] = {n: {"mean": naive2(tr, len(te), 12)} for n, tr, te in series}
    timings["naive2"] = time.perf_counter() - t0
    fcs["engine"], wall, cpu = run_engine(series, args.workers)
    timings["engine"] = wall
    if not args.no_autoets:
        auto, t_auto = run_autoets(series)
        if auto is None:
            print("statsforecast not installed: AutoETS skipped")
        else:
            fcs["autoets"] = auto
            timings["autoets"] = t_auto

    res = {k: scores(series, f) for k, f in fcs.items()}
    print()
    print(f"{'method':<10} {'sMAPE':>7} {'MASE':>7} {'cov80':>7} {'cov95':>7} {'time s':>8}")
    for k in ("engine", "naive2", "snaive", "autoets"):
        if k not in res:
            continue
        r = res[k]
        c80 = "" if np.isnan(r["cov80"]) else f"{100 * r['cov80']:.1f}%"
        c95 = "" if np.isnan(r["cov95"]) else f"{100 * r['cov95']:.1f}%"
        print(f"{k:<10} {r['smape']:7.3f} {r['mase']:7.3f} {c80:>7} {c95:>7} {timings[k]:8.2f}")
    print()
    print(f"engine wall time {wall:.1f} s with {args.workers} worker(s); "
          f"sum of per-series fit times {cpu:.1f} s ({1000 * cpu / len(series):.0f} ms/series)")
    ratio = res["engine"]["smape"] / res["naive2"]["smape"]
    print(f"engine sMAPE / Naive2 sMAPE = {ratio:.3f} (goal <= 0.900)")
    if "autoets" in res:
        r2 = res["engine"]["smape"] / res["autoets"]["smape"]
        print(f"engine sMAPE / AutoETS sMAPE = {r2:.3f} (goal <= 1.000)")
        print(f"engine MASE / AutoETS MASE = {res['engine']['mase'] / res['autoets']['mase']:.3f}")
    c95 = res["engine"]["cov95"]
    print(f"engine 95% coverage {100 * c95:.1f}% (goal 90-98%), "
          f"80% coverage {100 * res['engine']['cov80']:.1f}%")
    print(f"engine total time {wall:.1f} s (goal < 90 s for 617 series)")
    return res


if __name__ == "__main__":
    main()
