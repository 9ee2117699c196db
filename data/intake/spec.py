"""Fact-family specs: what each upload sheet holds, read from ``specs/<family>.toml``.

A family (services, hotline …) is a set of sheets; a sheet writes one DuckDB table and
declares its columns (DB name, Chinese header, type, 口径, code list or allowed values,
range, blank rule, header aliases) and its checks (key, mode, ≤ pairs, completeness,
plausibility). Templates, reading and validation are all driven from these declarations.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).resolve().parent / "specs"
COMMON = "_common.toml"

TYPES = ("month", "year", "date", "int", "decimal", "float", "bool", "text", "code")
NUMERIC = ("int", "decimal", "float")
MODES = ("partition", "upsert", "update")
CODE_LISTS = ("county", "department", "service_item", "project", "project_stage", "task")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


class SpecError(ValueError):
    """A spec file is inconsistent (a programming error, caught by the tests)."""


@dataclass(frozen=True)
class Column:
    name: str  # DB column (or an informational id when stored is false)
    header: str  # Chinese header in templates and uploads
    type: str
    required: bool = False
    unit: str = ""
    caliber: str = ""  # 口径, one sentence
    codes: str | None = None  # code list the value must belong to
    allowed: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    blank: str = "missing"  # what a blank cell or 「—」 means: "missing" or "zero"
    aliases: tuple[str, ...] = ()
    stored: bool = True
    example: Any = None
    name_of: str | None = None  # informational: the name belonging to the code in that column
    accept_names: bool = False  # the code may be written as its name (项目阶段)
    past: bool = False  # a date that may not be after today
    pattern: str | None = None
    pattern_text: str = ""

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


@dataclass(frozen=True)
class Sheet:
    key: str  # the DuckDB table it writes
    title: str  # the sheet name
    family: str
    mode: str  # partition: replaces whole partitions; upsert: by key; update: some columns by key
    keys: tuple[str, ...]
    columns: tuple[Column, ...]
    partition: tuple[str, ...] = ()
    month_column: str | None = None
    region_column: str | None = None
    region_via: str | None = None  # a code column whose code list carries region_column
    le: tuple[tuple[str, str, float], ...] = ()  # (a, b, k): a ≤ k × b
    complete: bool = False
    continuous: bool | None = None  # months must follow the database's latest; default: complete
    plausibility: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.key} 没有列 {name}")

    @property
    def stored(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.stored)

    @property
    def example(self) -> dict[str, Any]:
        """The example row of the template (column name → value as typed by a clerk)."""
        return {c.name: c.example for c in self.columns}

    @property
    def checks_continuity(self) -> bool:
        return self.complete if self.continuous is None else self.continuous


@dataclass(frozen=True)
class Family:
    name: str
    label: str
    sheets: tuple[Sheet, ...]

    def sheet(self, key: str) -> Sheet:
        for s in self.sheets:
            if s.key == key:
                return s
        raise KeyError(f"数据类别「{self.label}」没有工作表 {key}")


@lru_cache(maxsize=1)
def load_families() -> dict[str, Family]:
    """Every family spec under ``specs/`` (file name = family name), validated once."""
    common = tomllib.loads((SPEC_DIR / COMMON).read_text(encoding="utf-8")).get("column", {})
    out = {}
    for path in sorted(SPEC_DIR.glob("*.toml")):
        if path.name == COMMON:
            continue
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        out[path.stem] = _family(path.stem, raw, common)
    keys = [s.key for f in out.values() for s in f.sheets]
    if len(set(keys)) != len(keys):
        raise SpecError(f"工作表在多个数据类别中重复：{keys}")
    return out


def family_of_sheet(key: str) -> Family:
    """The family whose sheet writes table ``key``."""
    for family in load_families().values():
        if any(s.key == key for s in family.sheets):
            return family
    raise KeyError(f"没有写入表 {key} 的数据类别")


# ---------------------------------------------------------------- parsing and checks


def _family(name: str, raw: dict, common: dict) -> Family:
    _only(raw, {"label", "sheets"}, name)
    sheets = tuple(_sheet(name, s, common) for s in raw["sheets"])
    return Family(name=name, label=raw["label"], sheets=sheets)


def _sheet(family: str, raw: dict, common: dict) -> Sheet:
    where = f"{family}.{raw.get('key')}"
    allowed = {f.name for f in fields(Sheet)} - {"family"}
    _only(raw, allowed, where)
    cols = tuple(_column(c, common, where) for c in raw["columns"])
    le = tuple((a, b, float(k[0]) if k else 1.0) for a, b, *k in raw.get("le", ()))
    sheet = Sheet(
        key=raw["key"], title=raw["title"], family=family, mode=raw["mode"],
        keys=tuple(raw["keys"]), columns=cols, partition=tuple(raw.get("partition", ())),
        month_column=raw.get("month_column"), region_column=raw.get("region_column"),
        region_via=raw.get("region_via"), le=le, complete=bool(raw.get("complete", False)),
        continuous=raw.get("continuous"), plausibility=tuple(raw.get("plausibility", ())),
    )
    _check_sheet(sheet, where)
    return sheet


def _column(raw: dict, common: dict, where: str) -> Column:
    if "use" in raw:
        if raw["use"] not in common:
            raise SpecError(f"{where}: 未定义的公共列 {raw['use']}")
        raw = {**common[raw["use"]], **{k: v for k, v in raw.items() if k != "use"}}
    _only(raw, {f.name for f in fields(Column)}, f"{where}.{raw.get('name')}")
    values = dict(raw)
    for key in ("allowed", "aliases"):
        values[key] = tuple(values.get(key, ()))
    col = Column(**values)
    _check_column(col, f"{where}.{col.name}")
    return col


def _only(raw: dict, allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise SpecError(f"{where}: 未知的配置项 {sorted(unknown)}")


def _check_column(c: Column, where: str) -> None:
    if not _IDENT.match(c.name):
        raise SpecError(f"{where}: 列名须为小写标识符")
    if c.type not in TYPES:
        raise SpecError(f"{where}: 未知类型 {c.type}")
    if c.blank not in ("missing", "zero"):
        raise SpecError(f"{where}: blank 只能是 missing 或 zero")
    if c.blank == "zero" and c.type not in (*NUMERIC, "bool"):
        raise SpecError(f"{where}: 只有数值和是否列的空白可以视为 0")
    if c.codes is not None and c.codes not in CODE_LISTS:
        raise SpecError(f"{where}: 未知代码表 {c.codes}")
    if c.codes and c.allowed:
        raise SpecError(f"{where}: codes 与 allowed 只能二选一")
    if c.past and c.type != "date":
        raise SpecError(f"{where}: past 只适用于日期列")
    if c.pattern is not None:
        re.compile(c.pattern)


def _check_sheet(s: Sheet, where: str) -> None:
    names = [c.name for c in s.columns]
    if len(set(names)) != len(names):
        raise SpecError(f"{where}: 列名重复")
    headers = [h for c in s.columns for h in c.headers]
    if len(set(headers)) != len(headers):
        raise SpecError(f"{where}: 表头或别名重复")
    if s.mode not in MODES:
        raise SpecError(f"{where}: 未知模式 {s.mode}")
    if not _IDENT.match(s.key):
        raise SpecError(f"{where}: 表名须为小写标识符")
    stored = {c.name for c in s.stored}
    refs = [*s.keys, *s.partition, *(x for a, b, _ in s.le for x in (a, b)), *s.plausibility]
    refs += [x for x in (s.month_column,) if x]
    if s.region_column and not s.region_via:
        refs.append(s.region_column)
    missing = sorted(set(refs) - stored)
    if missing:
        raise SpecError(f"{where}: 引用了不存在的列 {missing}")
    if (s.mode == "partition") != bool(s.partition):
        raise SpecError(f"{where}: 分区模式须声明分区列（且只有分区模式声明）")
    if s.month_column and s.column(s.month_column).type != "month":
        raise SpecError(f"{where}: month_column 须为月份列")
    if s.complete and not (s.month_column and s.region_column):
        raise SpecError(f"{where}: complete 需要月份列和区县列")
    if s.region_via and s.column(s.region_via).codes not in ("project", "task"):
        raise SpecError(f"{where}: region_via 须指向项目或任务代码列")
    for c in s.columns:
        if c.name_of and (c.stored or c.name_of not in stored):
            raise SpecError(f"{where}.{c.name}: name_of 须是不入库列并指向一个入库的代码列")
        if c.name in s.keys and not c.required:
            raise SpecError(f"{where}.{c.name}: 键列须必填")
