"""Calibration check for target-attainment probabilities.

Simulates many series from a known process, asks ``level_attainment`` and
``ytd_rate_attainment`` for P(year-end value >= target) at an origin, then draws the actual
future from the same process and reports, per bucket of predicted probability, the observed
frequency of the event.  Well calibrated: predicted ≈ observed in every bucket.

Processes (known parameters, drawn per series):
* level: monthly rate in % = 100·sigmoid(random walk with drift on the logit scale) + noise,
  i.e. a local-level rate near the top of its range (typical for "online handling rate").
* ytd rate: the same rate process for the monthly rate, denominator = log random walk with
  seasonality-free noise; year-end YTD rate = 100·Σnum/Σden over the calendar year.

Targets are set at the process' own forecast quantiles at random, so that predictions span
the whole 0–1 range.  Usage: ``python bench/attainment_calibration.py [--series N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import itertools  # noqa: E402

from metrics.attainment import level_attainment, ytd_rate_attainment  # noqa: E402

N_HIST = 42  # months of history: Jan of year 1 .. Jun of year 4
HORIZON = 6  # Jul .. Dec of year 4
BUCKETS = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]


def _rate_process(rng, n):
    drift = rng.normal(0.0, 0.02)
    sd_lvl = rng.uniform(0.05, 0.15)
    sd_obs = rng.uniform(0.05, 0.2)
    start = rng.uniform(1.5, 3.0)  # logit scale: 82 % .. 95 %
    lvl = start + np.cumsum(drift + rng.normal(0, sd_lvl, n))
    z = lvl + rng.normal(0, sd_obs, n)
    return 100.0 / (1.0 + np.exp(-z))


def _den_process(rng, n):
    g = rng.normal(0.005, 0.003)
    lvl = np.log(rng.uniform(500, 5000)) + np.cumsum(g + rng.normal(0, 0.03, n))
    return np.exp(lvl + rng.normal(0, 0.05, n))


def one(i: int):
    rng = np.random.default_rng(10_000 + i)
    n = N_HIST + HORIZON
    idx = pd.period_range("2021-01", periods=n, freq="M")
    rate = _rate_process(rng, n)
    den = _den_process(rng, n)
    hist = slice(0, N_HIST)
    ye = idx[-1]
    # level KPI
    y = pd.Series(rate[hist], index=idx[hist])
    t_level = float(np.quantile(rate[hist][-6:], rng.uniform(0.0, 1.0))
                    + rng.normal(0, 1.0))
    p_level = level_attainment(y, t_level, ye, bounds=(0, 100), n_paths=400, seed=i)
    hit_level = rate[-1] >= t_level
    # YTD rate KPI
    num = rate * den / 100.0
    year = slice(n - 12, n)
    ytd_true = 100.0 * num[year].sum() / den[year].sum()
    ytd_obs = 100.0 * num[n - 12 : N_HIST].sum() / den[n - 12 : N_HIST].sum()
    t_ytd = float(ytd_obs + rng.normal(0, 0.8))
    p_ytd = ytd_rate_attainment(pd.Series(num[hist], index=idx[hist]),
                                pd.Series(den[hist], index=idx[hist]), t_ytd, ye,
                                n_paths=400, seed=i)
    hit_ytd = ytd_true >= t_ytd
    return (p_level.probability, bool(hit_level), p_ytd.probability, bool(hit_ytd))


def table(pred, hit, title):
    pred, hit = np.asarray(pred), np.asarray(hit, dtype=float)
    print(f"\n{title}  (n={len(pred)}, Brier={np.mean((pred - hit) ** 2):.3f})")
    print(f"{'bucket':<12}{'n':>6}{'mean predicted':>16}{'observed freq':>15}")
    for lo, hi in itertools.pairwise(BUCKETS):
        sel = (pred >= lo) & ((pred < hi) if hi < 1 else (pred <= hi))
        if sel.sum() == 0:
            print(f"{lo:.1f}-{hi:.1f}{'':<5}{0:>6}")
            continue
        print(f"{lo:.1f}-{hi:.1f}{'':<5}{int(sel.sum()):>6}{pred[sel].mean():>16.3f}"
              f"{hit[sel].mean():>15.3f}")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=800)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as ex:
        res = list(ex.map(one, range(args.series), chunksize=8))
    arr = np.array(res, dtype=float)
    table(arr[:, 0], arr[:, 1], "level_attainment (rate at year end >= target)")
    table(arr[:, 2], arr[:, 3], "ytd_rate_attainment (YTD rate at year end >= target)")
    print(f"\nruntime {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
