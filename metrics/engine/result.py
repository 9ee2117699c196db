"""Result mapping: ranks among siblings, and one KPI's row as the :class:`KpiResult` cards show."""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from metrics.catalogue import Kpi, load_catalogue
from metrics.engine.evaluate import num as _num
from metrics.periods import label, period_name
from metrics.regions import Region

PP = "个百分点"


@dataclass
class KpiResult:
    """One KPI for one region and period, with everything a card or a briefing needs."""

    kpi_id: str
    name: str
    unit: str
    region_code: str
    region_name: str
    level: str
    month: str
    period: str
    period_name: str
    period_label: str
    value: float | None
    numerator: float | None
    denominator: float | None
    prev_value: float | None
    ly_value: float | None
    mom_change: float | None
    yoy_change: float | None
    change_unit: str
    target: float | None
    target_source: str | None
    gap: float | None
    rag: str | None
    rank: int | None
    rank_of: int | None
    as_of: str
    has_data: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rank_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Add rank and rank_of per KPI (1 = best, by each KPI's direction; no value → no rank;
    ties share the best rank, as ``method="min"``)."""
    cat = load_catalogue()
    df = df.copy()
    # plain lists: a map's hundred counties are ranked on every first view of a month, and a
    # grouped pandas rank costs more than the rows' read
    kpis, values = df["kpi_id"].tolist(), df["value"].astype(float).tolist()
    better: dict[str, list[float]] = {}  # each KPI's values, signed so that larger is better, sorted
    for k, v in zip(kpis, values, strict=True):
        if v == v:  # not NaN
            better.setdefault(k, []).append(v if cat.kpi(k).higher_is_better else -v)
    for sorted_values in better.values():
        sorted_values.sort()
    rank: list[int | None] = []
    for k, v in zip(kpis, values, strict=True):
        if v != v:
            rank.append(None)
            continue
        signed, group = (v if cat.kpi(k).higher_is_better else -v), better[k]
        rank.append(1 + len(group) - bisect.bisect_right(group, signed))  # 1 + how many are strictly better
    df["rank"] = pd.array(rank, dtype="Int64")
    df["rank_of"] = pd.array([len(better.get(k, ())) for k in kpis], dtype="Int64")
    return df


def to_result(kpi: Kpi, region: Region, row: dict, attrs: dict) -> KpiResult:
    def opt_int(x):
        return None if x is None or pd.isna(x) else int(x)

    return KpiResult(
        kpi_id=kpi.id,
        name=kpi.name,
        unit=kpi.unit,
        region_code=region.code,
        region_name=region.name,
        level=region.level,
        month=attrs["month"].strftime("%Y-%m"),
        period=attrs["period"],
        period_name=period_name(attrs["period"]),
        period_label=label(attrs["period"], attrs["window"]),
        value=_num(row["value"]),
        numerator=_num(row["numerator"]),
        denominator=_num(row["denominator"]),
        prev_value=_num(row["prev_value"]),
        ly_value=_num(row["ly_value"]),
        mom_change=_num(row["mom_change"]),
        yoy_change=_num(row["yoy_change"]),
        change_unit=PP if kpi.is_rate else "%",
        target=_num(row["target"]),
        target_source=row["target_source"],
        gap=_num(row["gap"]),
        rag=row["rag"],
        rank=opt_int(row.get("rank")),
        rank_of=opt_int(row.get("rank_of")),
        as_of=attrs["as_of"].strftime("%Y-%m"),
        has_data=bool(row["has_data"]),
    )
