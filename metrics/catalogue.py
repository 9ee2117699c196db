"""The indicator catalogue: typed declarations loaded from ``catalogue.toml``.

Each KPI is declared once there; :func:`load_catalogue` validates every declaration
and raises :class:`CatalogueError` naming the KPI at fault.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from metrics.errors import UserError

CATALOGUE_PATH = Path(__file__).resolve().parent / "catalogue.toml"

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_FORBIDDEN_SQL = re.compile(r";|--|/\*|\b(select|insert|update|delete|drop|attach|copy|pragma|install|load)\b", re.I)


class KpiType(StrEnum):
    """How a KPI's value is formed (cf. dbt-semantic-interfaces' ``MetricType``)."""

    RATIO = "ratio"  # numerator / denominator × factor
    SUM = "sum"  # one summed measure
    GAP = "gap"  # its base KPI minus the base's target


class MeasureKind(StrEnum):
    FLOW = "flow"  # summed over a window's months
    STOCK = "stock"  # read at a window's last month


class Direction(StrEnum):
    HIGHER = "higher"  # higher is better
    LOWER = "lower"


KPI_TYPES = tuple(KpiType)
PERIODS = ("month", "ytd", "quarter", "year")
PERIOD_LABELS = {"month": "当月", "ytd": "累计", "quarter": "季度", "year": "年度"}


class CatalogueError(UserError, ValueError):
    """A declaration in the catalogue is invalid."""


class UnknownKpiError(UserError, KeyError):
    """A KPI id that the catalogue does not declare."""

    def __str__(self) -> str:
        return f"未知指标：{self.args[0]}"


@dataclass(frozen=True)
class Measure:
    name: str
    expr: str
    kind: MeasureKind
    agg: str  # sum | count_distinct
    label: str
    additive: bool  # Σ over regions equals the parent's value


@dataclass(frozen=True)
class Fact:
    name: str
    view: str
    dims: tuple[str, ...]
    label: str
    measures: dict[str, Measure]
    complete: bool = False  # a register: no rows in a reported month means zero
    aggregate: bool = False  # pre-summed into agg_<name> over all dims but detail_dims
    detail_dims: tuple[str, ...] = ()

    @property
    def aggregate_dims(self) -> tuple[str, ...]:
        return tuple(d for d in self.dims if d not in self.detail_dims)


@dataclass(frozen=True)
class Rag:
    amber_below: float = 0.0
    red_below: float = -5.0


@dataclass(frozen=True)
class Kpi:
    id: str
    name: str
    name_en: str
    family: str
    fact: str
    type: KpiType
    unit: str
    direction: Direction
    caliber: str
    source: str
    numerator: str | None = None
    denominator: str | None = None
    measure: str | None = None
    base: str | None = None
    scale: float | None = None
    target: float | None = None
    target_mode: str = "fixed"
    rag: Rag = field(default_factory=Rag)
    periods: tuple[str, ...] = PERIODS
    headline: bool = False

    @property
    def is_rate(self) -> bool:
        """Changes are in percentage points for rates and for gaps."""
        return self.unit in ("%", "个百分点")

    @property
    def higher_is_better(self) -> bool:
        return self.direction == Direction.HIGHER

    @property
    def has_target(self) -> bool:
        return self.target is not None or self.target_mode == "time_progress"

    @property
    def factor(self) -> float:
        """Multiplier from the raw ratio to the unit shown (100 for percent)."""
        if self.scale is not None:
            return self.scale
        return 100.0 if self.unit == "%" else 1.0


@dataclass(frozen=True)
class Catalogue:
    facts: dict[str, Fact]
    kpis: dict[str, Kpi]

    def kpi(self, kpi_id: str) -> Kpi:
        """The declaration of ``kpi_id``; :class:`UnknownKpiError` if there is none."""
        try:
            return self.kpis[kpi_id]
        except KeyError:
            raise UnknownKpiError(kpi_id) from None

    def base_of(self, kpi: Kpi) -> Kpi:
        """The KPI whose measures give ``kpi``'s value: a gap's base, else the KPI itself."""
        if kpi.type != KpiType.GAP:
            return kpi
        if kpi.base is None:  # parse_catalogue refuses a gap without a base
            raise UnknownKpiError(kpi.id)
        return self.kpis[kpi.base]

    def measures_of(self, kpi: Kpi) -> list[Measure]:
        """The measures a KPI needs from its fact (through its base for gaps)."""
        base = self.base_of(kpi)
        fact = self.facts[base.fact]
        names = [base.measure] if base.type == KpiType.SUM else [base.numerator, base.denominator]
        return [fact.measures[n] for n in names if n is not None]  # parse_catalogue requires them

    def headline(self) -> list[Kpi]:
        return [k for k in self.kpis.values() if k.headline]


def _fail(what: str, message: str) -> CatalogueError:
    return CatalogueError(f"指标目录错误（{what}）：{message}")


def _parse_fact(name: str, raw: dict) -> Fact:
    where = f"事实表 {name}"
    for key in ("view", "measures"):
        if key not in raw:
            raise _fail(where, f"缺少 {key}")
    if not _IDENT.match(raw["view"]):
        raise _fail(where, f"视图名不合法：{raw['view']!r}")
    dims = tuple(raw.get("dims", []))
    for d in dims:
        if not _IDENT.match(d):
            raise _fail(where, f"维度名不合法：{d!r}")
    measures = {}
    for mname, m in raw["measures"].items():
        mwhere = f"{where}.{mname}"
        if not _IDENT.match(mname):
            raise _fail(mwhere, "度量名不合法")
        expr = m.get("expr")
        if not isinstance(expr, str) or not expr.strip() or _FORBIDDEN_SQL.search(expr):
            raise _fail(mwhere, f"表达式不合法：{expr!r}")
        kind = m.get("kind")
        if kind not in tuple(MeasureKind):
            raise _fail(mwhere, f"kind 应为 flow 或 stock，而不是 {kind!r}")
        agg = m.get("agg", "sum")
        if agg not in ("sum", "count_distinct"):
            raise _fail(mwhere, f"agg 应为 sum 或 count_distinct，而不是 {agg!r}")
        if agg == "count_distinct" and kind != "stock":
            raise _fail(mwhere, "count_distinct 度量只能是 stock（按月去重计数，不能跨月累加）")
        measures[mname] = Measure(
            name=mname, expr=expr, kind=MeasureKind(kind), agg=agg, label=m.get("label", mname), additive=agg == "sum"
        )
    detail = tuple(raw.get("detail_dims", ()))
    if not set(detail) <= set(dims):
        raise _fail(where, f"detail_dims 必须是 dims 的子集：{detail}")
    return Fact(name=name, view=raw["view"], dims=dims, label=raw.get("label", name), measures=measures,
                complete=bool(raw.get("complete", False)), aggregate=bool(raw.get("aggregate", False)),
                detail_dims=detail)


_KPI_FIELDS = set(Kpi.__dataclass_fields__)


def _parse_kpi(raw: dict, facts: dict[str, Fact]) -> Kpi:
    kid = raw.get("id", "<无 id>")
    where = f"指标 {kid}"
    unknown = set(raw) - _KPI_FIELDS
    if unknown:
        raise _fail(where, f"未知字段 {sorted(unknown)}")
    for key in ("id", "name", "name_en", "family", "fact", "type", "unit", "direction", "caliber", "source"):
        if not raw.get(key):
            raise _fail(where, f"缺少 {key}")
    if not _IDENT.match(kid):
        raise _fail(where, "id 只能由小写字母、数字和下划线组成")
    if raw["type"] not in KPI_TYPES:
        raise _fail(where, f"type 应为 {KPI_TYPES} 之一")
    if raw["direction"] not in tuple(Direction):
        raise _fail(where, "direction 应为 higher 或 lower")
    fact = facts.get(raw["fact"])
    if fact is None:
        raise _fail(where, f"未知事实表 {raw['fact']!r}")
    needed = {"ratio": ("numerator", "denominator"), "sum": ("measure",), "gap": ("base",)}[raw["type"]]
    for key in needed:
        if not raw.get(key):
            raise _fail(where, f"{raw['type']} 型指标缺少 {key}")
    if raw["type"] != "gap":
        for key in needed:
            if raw[key] not in fact.measures:
                raise _fail(where, f"{key} 引用了事实表 {fact.name} 中不存在的度量 {raw[key]!r}")
    periods = tuple(raw.get("periods", PERIODS))
    if not periods or any(p not in PERIODS for p in periods):
        raise _fail(where, f"periods 只能取 {PERIODS}")
    target_mode = raw.get("target_mode", "fixed")
    if target_mode not in ("fixed", "time_progress"):
        raise _fail(where, "target_mode 应为 fixed 或 time_progress")
    rag_raw = raw.get("rag", {})
    try:
        rag = Rag(**rag_raw)
    except TypeError as exc:
        raise _fail(where, f"rag 字段不合法：{exc}") from None
    if rag.red_below > rag.amber_below:
        raise _fail(where, "rag.red_below 不能高于 rag.amber_below")
    values = {k: v for k, v in raw.items() if k not in ("rag", "periods", "type", "direction")}
    return Kpi(**values, type=KpiType(raw["type"]), direction=Direction(raw["direction"]), rag=rag, periods=periods)


def parse_catalogue(text: str) -> Catalogue:
    """Parse and validate catalogue TOML text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"指标目录无法解析：{exc}") from None
    facts = {name: _parse_fact(name, f) for name, f in raw.get("fact", {}).items()}
    kpis: dict[str, Kpi] = {}
    for item in raw.get("kpi", []):
        kpi = _parse_kpi(item, facts)
        if kpi.id in kpis:
            raise _fail(f"指标 {kpi.id}", "id 重复")
        kpis[kpi.id] = kpi
    for kpi in kpis.values():
        if kpi.type == KpiType.GAP:
            base = kpis.get(kpi.base) if kpi.base else None
            if base is None or base.type == KpiType.GAP:
                raise _fail(f"指标 {kpi.id}", f"base 应为已声明的非差值指标，而不是 {kpi.base!r}")
            if not base.has_target:
                raise _fail(f"指标 {kpi.id}", f"base 指标 {base.id} 没有目标值")
    return Catalogue(facts=facts, kpis=kpis)


@lru_cache(maxsize=1)
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """The product's catalogue, parsed once, its ``{…_months}`` slots (names and 口径 of the
    project-rule KPIs) filled with the thresholds of ``rules.toml`` that their counts use."""
    from metrics.rules import load_rules, worded  # metrics.rules reads the catalogue's SQL helpers

    return parse_catalogue(worded(Path(path).read_text(encoding="utf-8"), load_rules().thresholds))
