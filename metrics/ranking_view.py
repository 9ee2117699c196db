"""考核 · the composite evaluation index as the ranking page shows it.

At province level the cities (or, with ``level=county``, all counties) are ranked; at city
level its counties; at county level the county among its city's counties. The index itself
comes from :func:`metrics.composite.composite_index` (累计, configured in ``composite.toml``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from data.scope import Scope, ScopeError, require
from metrics.cache import memo
from metrics.catalogue import load_catalogue
from metrics.composite import composite_index, load_index_config
from metrics.errors import UserError
from metrics.page_state import PageContext, page_context
from metrics.regions import get_region

LEVELS = {"city": "设区市", "county": "县（市、区）"}
CONFIG_SOURCE = "metrics/composite.toml"


class RankingParamError(UserError, ValueError):
    """A level or focus region in the URL that the ranking page cannot show."""


@dataclass(frozen=True, eq=False)
class RankingPage(PageContext):
    """What the 考核 page draws (besides its header): the ranked level and its title, the
    index and its map, the focused region's row against the average, and the weights."""

    rank_level: str
    rank_title: str
    map_parent: str | None
    index: pd.DataFrame
    ranked: int
    map: pd.DataFrame
    focus: str | None
    focus_row: dict | None
    average: dict[str, float | None]
    dimensions: list[dict]
    config_source: str
    index_period: str
    normalisation: str
    change_basis: str


@memo(maxsize=64)
def _cached_index(root: str, level: str, month: str, scope: Scope) -> pd.DataFrame:
    return composite_index(root, level, month, scope=scope)


def ranking_index(root: str, level: str, month, *, scope: Scope) -> pd.DataFrame:
    """``composite_index`` cached per data version and scope (a focus click re-renders the
    page without recomputing the index). Returns a copy the caller may change."""
    scope = require(scope)
    df = _cached_index(root, level, str(month)[:7], scope)
    df.attrs = dict(df.attrs)
    return df


def dimensions() -> list[dict]:
    """The index's dimensions: id, name, weight (share of 1) and their KPIs with weights."""
    cat = load_catalogue()
    return [{"id": d.id, "name": d.name, "weight": d.weight, "column": f"dim_{d.id}",
             "kpis": [(cat.kpi(k).name, w) for k, w in d.kpis.items()]}
            for d in load_index_config().dimensions]


def dimension_average(index: pd.DataFrame) -> dict[str, float | None]:
    """The mean of each dimension's score over the ranked regions that have one."""
    out = {}
    for d in dimensions():
        col = index[d["column"]].dropna() if d["column"] in index else pd.Series(dtype=float)
        out[d["id"]] = float(col.mean()) if len(col) else None
    return out


def _scope_of_ranking(ctx: PageContext, level: str | None, scope: Scope) -> tuple[str, str, str | None, str]:
    """(root, level, map parent, title) for the region in view."""
    if ctx["level"] == "province":
        level = level or "city"
        if level not in LEVELS:
            raise RankingParamError(f"未知的排名层级：{level!r}（可选：city 设区市、county 县（市、区））")
        return ctx["region"], level, None, f"{ctx['region_name']}各{LEVELS[level]}"
    if ctx["level"] == "city":
        return ctx["region"], "county", ctx["region"], f"{ctx['region_name']}各县（市、区）"
    parent_code = get_region(ctx["region"], scope=scope).parent_code
    try:  # a county is ranked among its city's counties, if the viewer may see them
        parent = get_region(parent_code, scope=scope) if parent_code else None
    except ScopeError:
        parent = None
    if parent is None:
        return ctx["region"], "county", ctx["region"], ctx["region_name"]
    return parent.code, "county", parent.code, f"{parent.name}各县（市、区）"


def ranking_page(region=None, month=None, level=None, focus=None, *, scope: Scope) -> RankingPage:
    """Everything the 考核 page shows, after validating the URL state: the ranking, the map
    data, the focused region's dimension scores against the average, and the weights."""
    scope = require(scope)
    ctx = page_context(region, month, "ytd", scope=scope)
    root, level, parent, title = _scope_of_ranking(ctx, level or None, scope)
    index = ranking_index(root, level, ctx["month"], scope=scope)
    if not index.empty and "score" in index:
        ranked = index[index["score"].notna()]
    else:
        ranked = pd.DataFrame()
    codes = index["region_code"].tolist() if not index.empty else []
    if focus in (None, ""):
        focus = ctx["region"] if ctx["region"] in codes else (ranked["region_code"].iloc[0] if len(ranked) else None)
    elif focus not in codes:
        raise RankingParamError(f"地区 {focus!r} 不在本次排名范围（{title}）内")
    dims = dimensions()
    focus_row = None
    if focus:  # plain Python values, None where there is no score or no rank
        raw = index.set_index("region_code").loc[focus].to_dict()
        focus_row = {k: None if pd.isna(v) else v for k, v in raw.items()}
        focus_row["region_code"] = focus
    return RankingPage(
        **ctx,
        rank_level=level,
        rank_title=title,
        map_parent=parent,
        index=index,
        ranked=len(ranked),
        map=(index[["region_code", "region_name", "score", "rank"]].rename(columns={"score": "value"})
             if not index.empty else pd.DataFrame(columns=["region_code", "region_name", "value", "rank"])),
        focus=focus,
        focus_row=focus_row,
        average=dimension_average(ranked) if len(ranked) else {d["id"]: None for d in dims},
        dimensions=dims,
        config_source=CONFIG_SOURCE,
        index_period=f"累计 · {ctx['period_label']}",
        normalisation=load_index_config().normalisation,
        change_basis="较上月",
    )
