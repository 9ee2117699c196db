"""The composite evaluation index (综合评估指数): score, rank and change for every city or county."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from data import db
from data.scope import Scope, require
from metrics.catalogue import load_catalogue
from metrics.compile import named_sql
from metrics.engine import compute
from metrics.periods import add_months, parse_month
from metrics.regions import get_region

COMPOSITE_PATH = Path(__file__).resolve().parent / "composite.toml"


@dataclass(frozen=True)
class Dimension:
    id: str
    name: str
    weight: float
    kpis: dict[str, float]


@dataclass(frozen=True)
class IndexConfig:
    normalisation: str
    period: str
    dimensions: tuple[Dimension, ...]


@lru_cache(maxsize=4)
def load_index_config(path: Path = COMPOSITE_PATH) -> IndexConfig:
    """The index configuration, validated against the catalogue."""
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    cat = load_catalogue()
    dims = tuple(Dimension(**d) for d in raw["dimension"])
    if raw.get("normalisation") not in ("minmax", "target"):
        raise ValueError("综合指数配置错误：normalisation 应为 minmax 或 target")
    for d in dims:
        for k in d.kpis:
            cat.kpi(k)  # unknown KPI → UnknownKpiError
    if abs(sum(d.weight for d in dims) - 1) > 1e-6:
        raise ValueError("综合指数配置错误：各维度权重之和应为 1")
    return IndexConfig(normalisation=raw["normalisation"], period=raw.get("period", "ytd"), dimensions=dims)


def _normalise(values: pd.Series, higher: bool, target: pd.Series, method: str) -> pd.Series:
    if method == "target" and higher and target.notna().all() and (target > 0).all():
        return (values / target * 100).clip(upper=100)
    lo, hi = values.min(), values.max()
    if pd.isna(lo) or hi == lo:
        return values.where(values.isna(), 100.0)
    scaled = (values - lo) / (hi - lo) * 100
    return scaled if higher else 100 - scaled


def _scores(codes: list[str], month, scope: Scope, cfg: IndexConfig) -> pd.DataFrame:
    cat = load_catalogue()
    ids = sorted({k for d in cfg.dimensions for k in d.kpis})
    df = compute(ids, codes, month, cfg.period, scope=scope)
    wide = df.pivot(index="region_code", columns="kpi_id", values="value").reindex(codes).astype(float)
    targets = df.pivot(index="region_code", columns="kpi_id", values="target").reindex(codes).astype(float)
    out = pd.DataFrame(index=codes)
    total = pd.Series(0.0, index=codes)
    for d in cfg.dimensions:
        parts = pd.DataFrame(
            {k: _normalise(wide[k], cat.kpi(k).higher_is_better, targets[k], cfg.normalisation) for k in d.kpis}
        )
        weights = pd.Series(d.kpis)
        present = parts.notna().mul(weights, axis=1)
        score = parts.fillna(0).mul(weights, axis=1).sum(axis=1) / present.sum(axis=1).replace(0, float("nan"))
        out[f"dim_{d.id}"] = score
        total += score.fillna(0) * d.weight
    dims = out[[f"dim_{d.id}" for d in cfg.dimensions]]
    out["score"] = total.where(dims.notna().any(axis=1))  # a region with no data gets no score
    out["rank"] = out["score"].rank(method="min", ascending=False).astype("Int64")
    return out


def composite_index(root: str, level: str, month, *, scope: Scope, config: IndexConfig | None = None) -> pd.DataFrame:
    """Score (0–100), rank, dimension scores and change since the previous month for every
    visible region of ``level`` ('city' or 'county') under ``root``."""
    scope = require(scope)
    get_region(root, scope=scope)
    if level not in ("city", "county"):
        raise ValueError(f"综合指数的排名层级应为 city 或 county，而不是 {level!r}")
    cfg = config or load_index_config()
    regions = db.query(named_sql("regions_at_level.sql"), {"root": root, "level": level, **scope.params()})
    if regions.empty:
        return pd.DataFrame()
    codes = regions["code"].tolist()
    m = parse_month(month)
    now = _scores(codes, m, scope, cfg)
    before = _scores(codes, add_months(m, -1), scope, cfg)
    out = regions.rename(columns={"code": "region_code", "name": "region_name"}).set_index("region_code")
    out = out.join(now)
    out["prev_score"] = before["score"]
    out["score_change"] = out["score"] - out["prev_score"]
    out["prev_rank"] = before["rank"]
    out["rank_change"] = (out["prev_rank"] - out["rank"]).astype("Int64")  # positive = moved up
    out = out.reset_index().sort_values(["rank", "region_code"]).reset_index(drop=True)
    out.attrs["dimensions"] = [(d.id, d.name, d.weight) for d in cfg.dimensions]
    return out
