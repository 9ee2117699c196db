"""Targets: which value a KPI is held to for a region and window, resolved in one place.

A region's own ``kpi_target`` row for the year, else its nearest ancestor's, else the
catalogue's default; a ``time_progress`` KPI is held to 序时进度 (the window's months ÷ 12).
A gap KPI's value is its base's value minus the base's target (:func:`minus_target`).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from data import db
from metrics.cache import memo
from metrics.catalogue import Kpi
from metrics.compile import named_sql
from metrics.periods import Window, time_progress


@memo(maxsize=16)
def targets(year: int) -> dict[tuple[str, str], tuple[float, str]]:
    """The kpi_target row that applies to each (KPI, region) in ``year`` (the region's own,
    else its nearest ancestor's): the whole small table resolved at once, per data version."""
    return target_table(db.query(named_sql("targets.sql"), {"year": year}))


def target_table(df: pd.DataFrame) -> dict[tuple[str, str], tuple[float, str]]:
    """The rows of ``targets.sql`` as (KPI, region) → (target, source)."""
    columns = (df[c].tolist() for c in ("kpi_id", "region_code", "target", "source"))  # lists: Arrow rows are slow
    return {(k, r): (float(t), s) for k, r, t, s in zip(*columns, strict=True)}


def target_for(kpi: Kpi, region: str, window: Window, table: dict) -> tuple[float | None, str | None]:
    """(target, source) of ``kpi`` for ``region`` over ``window``; ``table`` is :func:`targets` of its year."""
    if kpi.target_mode == "time_progress":
        return time_progress(window), f"序时进度（{window.end.month}÷12）"
    if (kpi.id, region) in table:
        return table[(kpi.id, region)]
    return kpi.target, (kpi.source if kpi.target is not None else None)


def year_end_target(kpi: Kpi, region: str, year: int) -> tuple[float | None, str | None]:
    """The target ``kpi``'s value at the end of ``year`` is held to (序时进度 is 100% in December)."""
    return target_for(kpi, region, Window(date(int(year), 1, 1), date(int(year), 12, 1)), targets(int(year)))


def minus_target(base: Kpi, value: float | None, region: str, window: Window, table: dict) -> float | None:
    """A gap KPI's value: its base's ``value`` minus the base's target (None without either)."""
    if value is None:
        return None
    target, _ = target_for(base, region, window, table)
    return None if target is None else value - target
