"""Regions as the viewer may see them: lookup, children, lineage, and the data's as-of month."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from data import db
from data.scope import Scope, ScopeError, require
from metrics.cache import memo
from metrics.compile import named_sql
from metrics.errors import UserError

LEVEL_NAMES = {"province": "省", "city": "设区市", "county": "县（市、区）"}
_CODE = re.compile(r"^\d{6}$")


class UnknownRegionError(UserError, LookupError):
    """A region code that is malformed or not in the database."""

    def __str__(self) -> str:
        return f"未知的地区代码：{self.args[0]}（应为库中已有的 6 位行政区划代码）"


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent_code: str | None


@memo()
def _lookup(codes: tuple[str, ...], scope: Scope) -> dict[str, tuple[Region, bool]]:
    df = db.query(named_sql("region_lookup.sql"), {"codes": list(codes), **scope.params()})
    return {
        r.code: (Region(r.code, r.name, r.level, r.parent_code if isinstance(r.parent_code, str) else None), r.visible)
        for r in df.itertuples()
    }


def get_region(code: str, *, scope: Scope) -> Region:
    """The region ``code`` if it exists and the viewer's scope covers it."""
    scope = require(scope)
    if not isinstance(code, str) or not _CODE.match(code):
        raise UnknownRegionError(code)
    found = _lookup((code,), scope).get(code)
    if found is None:
        raise UnknownRegionError(code)
    region, visible = found
    if not visible:
        raise ScopeError(f"无权查看该地区：{region.name}（{code}）")
    return region


def children(code: str, *, scope: Scope) -> list[Region]:
    """The visible children of ``code`` (cities of a province, counties of a city)."""
    get_region(code, scope=scope)
    return visible_children(code, scope=scope)


@memo()
def visible_children(code: str, *, scope: Scope) -> list[Region]:
    """The children of ``code`` the scope covers, even where ``code`` itself is out of scope
    (a city viewer's siblings under the province they cannot see)."""
    df = db.query(named_sql("region_children.sql"), {"parent": code, **require(scope).params()})
    return [Region(r.code, r.name, r.level, r.parent_code) for r in df.itertuples()]


def lineage(code: str, *, scope: Scope) -> list[Region]:
    """The visible chain from the top down to ``code``, for a breadcrumb."""
    chain = [get_region(code, scope=scope)]
    while chain[0].parent_code:
        found = _lookup((chain[0].parent_code,), scope).get(chain[0].parent_code)
        if found is None or not found[1]:
            break
        chain.insert(0, found[0])
    return chain


@memo(maxsize=4)
def as_of() -> tuple[date, date]:
    """The first and last month with data."""
    row = db.query(named_sql("as_of.sql")).iloc[0]
    if row.first_month is None or row.first_month != row.first_month:  # NaT: empty calendar
        raise LookupError("数据库中没有任何月份的数据")
    return row.first_month.date(), row.last_month.date()


@memo(maxsize=4)
def root_region() -> str:
    """The code of the province the database covers."""
    df = db.query(named_sql("root_region.sql"))
    if df.empty:
        raise LookupError("数据库中没有地区数据")
    return str(df.iloc[0, 0])


@memo(maxsize=16)
def region_tree(*, scope: Scope) -> list[Region]:
    """Every visible region, each city followed by its counties (for the region picker)."""
    df = db.query(named_sql("region_tree.sql"), require(scope).params())
    regions = [Region(r.code, r.name, r.level, r.parent_code if isinstance(r.parent_code, str) else None)
               for r in df.itertuples()]
    by_parent: dict[str | None, list[Region]] = {}
    for r in regions:
        by_parent.setdefault(r.parent_code, []).append(r)
    codes = {r.code for r in regions}
    ordered: list[Region] = []

    def visit(region: Region) -> None:
        ordered.append(region)
        for child in by_parent.get(region.code, []):
            visit(child)

    for top in (r for r in regions if r.parent_code not in codes):
        visit(top)
    return ordered


@memo()
def descendants(code: str, level: str, *, scope: Scope) -> list[Region]:
    """The visible regions of ``level`` under ``code`` (a county is its own descendant)."""
    get_region(code, scope=scope)
    df = db.query(named_sql("regions_at_level.sql"), {"root": code, "level": level, **scope.params()})
    return [Region(r.code, r.name, r.level, r.parent_code) for r in df.itertuples()]
