"""Which named things (regions, projects, units, departments, items, tasks, KPIs) a scope covers.

The data layer already applies the scope in SQL, so a name outside it gives zero rows or a
:class:`~data.scope.ScopeError`. This module answers the question the audit log asks before
that: did a request *name* something outside the viewer's scope (a forged URL or callback
input)? :func:`denials` returns one entry per such name; names that do not exist at all are
not denials (the pages say 「未知的…」 for those).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from data import db
from data.scope import Scope, require
from metrics.cache import memo
from metrics.catalogue import load_catalogue
from metrics.compile import named_sql
from metrics.regions import _lookup

_CODE = re.compile(r"^\d{6}$")
# URL parameter / state key → the kind of thing it names
PARAMS = {"region": "region", "focus": "region", "parent": "region", "regions": "regions", "project": "project",
          "unit": "unit", "dept": "dept", "item": "item", "task": "task", "kpi": "kpi"}
KINDS = {"region": "地区", "project": "项目", "unit": "建设单位", "dept": "部门", "item": "事项", "task": "督办任务",
         "kpi": "指标"}


@dataclass(frozen=True)
class Denial:
    param: str
    kind: str
    value: str
    region: str | None = None

    @property
    def message(self) -> str:
        return f"无权查看该{KINDS[self.kind]}：{self.value}"


def by_department(kpi_id: str) -> bool:
    """Whether a KPI can be computed for one department (its fact carries ``dept_code``): the
    only KPIs a department-limited scope may see."""
    cat = load_catalogue()
    kpi = cat.kpi(kpi_id)
    base = cat.base_of(kpi)
    return "dept_code" in cat.facts[base.fact].dims


def visible_kpis(scope: Scope) -> list[str]:
    """The KPI ids ``scope`` may see (every one, unless it is limited to departments)."""
    ids = list(load_catalogue().kpis)
    return ids if require(scope).all_departments else [k for k in ids if by_department(k)]


@memo(maxsize=1024)
def _visible(kind: str, value: str, scope: Scope) -> bool | None:
    """True/False: the thing exists and the scope does / does not cover it; None: no such thing."""
    if kind == "region":
        if not _CODE.match(value):
            return None
        found = _lookup((value,), scope).get(value)
        return None if found is None else bool(found[1])
    if kind == "kpi":
        if value not in load_catalogue().kpis:
            return None
        return scope.all_departments or by_department(value)
    sql, param = {"project": ("access_project.sql", "project"), "unit": ("access_unit.sql", "unit"),
                  "dept": ("access_department.sql", "dept"), "item": ("access_item.sql", "item"),
                  "task": ("access_task.sql", "task")}[kind]
    df = db.query(named_sql(sql), {param: value, **scope.params()})
    if df.empty or df["visible"].isna().all():
        return None
    return bool(df["visible"].iloc[0])


def denials(params: Iterable[tuple[str, object]], *, scope: Scope) -> list[Denial]:
    """The (parameter, value) pairs that name something outside ``scope``, once each."""
    scope = require(scope)
    out: list[Denial] = []
    seen: set[tuple[str, str]] = set()
    for name, raw in params:
        kind = PARAMS.get(name)
        if kind is None or raw is None or isinstance(raw, (dict, list, bool)):
            continue
        text = str(raw).strip()
        if not text or len(text) > 200:
            continue
        values = [v.strip() for v in text.split(",")] if kind == "regions" else [text]
        kind = "region" if kind == "regions" else kind
        for value in values:
            if not value or (kind, value) in seen:
                continue
            seen.add((kind, value))
            if _visible(kind, value, scope) is False:
                out.append(Denial(name, kind, value, value if kind == "region" else None))
    return out
