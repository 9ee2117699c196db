"""The pandera schema of a sheet, built from its spec, and its failures in Chinese.

Each check gets an id (its pandera name) and a :class:`Rule` that words a failing row
for the clerk. Values are parsed before (:mod:`data.intake.normalise`), so the schema
checks typed columns: required, ranges, allowed values, code lists, the uploader's
scope, numerator ≤ denominator and the uniqueness of the key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from data.intake.codes import Area, CodeLists
from data.intake.errors import CAP_PER_CHECK, Problem
from data.intake.spec import Column, Sheet

INT32_MAX = 2**31 - 1
PANDERA_DTYPES = {"int": "Int64", "year": "Int64", "decimal": "Float64", "float": "Float64", "bool": "boolean",
                  "month": "datetime64[us]", "date": "datetime64[us]"}
REGION = "_region"  # helper column: the county (or task region) a row belongs to, for region_via sheets
NOT_NULLABLE = "not_nullable"
UNIQUE = "multiple_fields_uniqueness"


@dataclass(frozen=True)
class Rule:
    column: str | None  # the spec column the message is about (None: the row)
    words: Callable[[pd.DataFrame], list[str]]  # failing rows → one message each
    what: str  # 「另有 N 行…」: what the rest are


@dataclass
class Context:
    """What the checks compare against: code lists (plus this upload's registers) and the area."""

    lists: CodeLists
    area: Area
    today: date
    item_depts: pd.Series  # item code → department (database and this upload)
    project_codes: set[str]
    region_of: pd.Series | None = None  # for region_via sheets: code → region


def show(value: object, col: Column | None = None) -> str:
    """A typed value as quoted in a message."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return "（空）"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m" if col is not None and col.type == "month" else "%Y-%m-%d")
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.2f}".rstrip("0").rstrip(".") if col is not None and col.type == "decimal" \
            else f"{float(value):g}"
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    return str(value)


def type_text(col: Column) -> str:
    """What a column's cells should be (「应为非负整数」)."""
    nonneg = col.min == 0
    return {
        "int": "应为非负整数" if nonneg else "应为整数",
        "decimal": "应为不小于 0 的数（最多两位小数）" if nonneg else "应为数（最多两位小数）",
        "float": "应为非负数" if nonneg else "应为数",
        "month": "应为月份（如 2026-10）",
        "year": "应为年份（如 2026）",
        "date": "应为日期（如 2026-10-15）",
        "bool": "应为 是 或 否",
    }.get(col.type, "格式不正确")


def _range_text(col: Column) -> str:
    lo, hi = col.min, col.max
    if lo == 0 and hi is None:
        return type_text(col)
    if lo is not None and hi is not None:
        return f"应在 {lo:g}–{hi:g} 之间"
    return f"不应小于 {lo:g}" if lo is not None else f"不应大于 {hi:g}"


def build(sheet: Sheet, ctx: Context, present: set[str]) -> tuple[pa.DataFrameSchema, dict[str, Rule]]:
    """The schema for a typed frame of ``sheet`` and the wording of each check."""
    rules: dict[str, Rule] = {}
    columns: dict[str, pa.Column] = {}

    def check(rule_id: str, fn, rule: Rule) -> pa.Check:
        rules[rule_id] = rule
        return pa.Check(fn, name=rule_id)

    for col in sheet.columns:
        if col.name not in present:
            continue
        checks = []
        for k, (fn, rule) in enumerate(_column_rules(sheet, col, ctx)):
            checks.append(check(f"{col.name}:{k}", fn, rule))
        columns[col.name] = pa.Column(PANDERA_DTYPES.get(col.type), checks=checks,
                                      nullable=not (col.required and col.stored), required=False)
    frame_checks = []
    for k, (fn, rule) in enumerate(_row_rules(sheet, ctx, present)):
        rules[f"row:{k}"] = rule
        frame_checks.append(pa.Check(fn, name=f"row:{k}", ignore_na=False))
    schema = pa.DataFrameSchema(columns, checks=frame_checks, unique=list(sheet.keys), report_duplicates="all",
                                strict=False)
    return schema, rules


def _column_rules(sheet: Sheet, col: Column, ctx: Context):
    """(check on the typed column, wording) pairs of one column."""

    def each(fmt: Callable[[object], str]) -> Callable[[pd.DataFrame], list[str]]:
        return lambda rows: [fmt(v) for v in rows[col.name]]

    if col.min is not None or col.max is not None:
        lo, hi = col.min, col.max
        yield ((lambda s: s.between(-np.inf if lo is None else lo, np.inf if hi is None else hi)),
               Rule(col.name, each(lambda v: f"{_range_text(col)}，实为 {show(v, col)}"), "超出范围"))
    if col.type == "int":
        yield (lambda s: s.abs() <= INT32_MAX), Rule(col.name, each(lambda v: f"数值 {v} 过大"), "数值过大")
    if col.allowed:
        allowed = set(col.allowed)
        listed = "、".join(col.allowed)
        yield ((lambda s: s.isin(allowed)),
               Rule(col.name, each(lambda v: f"应为 {listed} 之一，实为 {v}"), "取值不在可选范围内"))
    if col.pattern:
        yield ((lambda s: s.astype(str).str.match(col.pattern)),
               Rule(col.name, each(lambda v: f"应为{col.pattern_text or '规定格式'}，实为 {v}"), "格式不正确"))
    if col.past:
        today = pd.Timestamp(ctx.today)
        yield ((lambda s: s <= today),
               Rule(col.name, each(lambda v: f"{show(v, col)} 晚于今天（{ctx.today:%Y-%m-%d}），不能报送未发生的事"),
                    "日期晚于今天"))
    if sheet.month_column == col.name:
        first = pd.Timestamp(ctx.today.replace(day=1))
        yield ((lambda s: s < first),
               Rule(col.name, each(lambda v: f"{show(v, col)} 尚未结束（今天是 {ctx.today:%Y-%m-%d}），不能报送"),
                    "月份尚未结束"))
    if col.codes and col.stored:
        yield from _code_rules(col, ctx)


def _code_rules(col: Column, ctx: Context):
    lists, area = ctx.lists, ctx.area
    name = col.name
    if col.codes == "county":
        province = lists.counties([area.province])
        yield ((lambda s: s.isin(province)),
               Rule(name, lambda rows: [lists.stray_county(c, area.province) for c in rows[name]], "区县代码无效"))
        yield from _area_rules(name, area, lists, lambda c: f"{c} {lists.name(c)}")
    elif col.codes == "department":
        depts = set(lists.departments.index)
        yield ((lambda s: s.isin(depts)),
               Rule(name, lambda rows: [f"{c} 不在部门代码表中" for c in rows[name]], "部门代码无效"))
        if area.departments is not None:
            allowed = area.departments
            dname = lists.departments["name"]
            yield ((lambda s: s.isin(allowed) | ~s.isin(depts)),
                   Rule(name, lambda rows: [f"{c} {dname.get(c, '')} 不在您的报送范围内" for c in rows[name]],
                        "部门不在报送范围内"))
    elif col.codes == "service_item":
        items = set(ctx.item_depts.index)
        yield ((lambda s: s.isin(items)),
               Rule(name, lambda rows: [f"{c} 不在事项清单中（数据库和本文件〔事项清单〕都没有）" for c in rows[name]],
                    "事项编码无效"))
    elif col.codes == "project":
        projects = ctx.project_codes
        yield ((lambda s: s.isin(projects)),
               Rule(name, lambda rows: [f"{c} 不是已登记的项目编号" for c in rows[name]], "项目编号无效"))
    elif col.codes == "project_stage":
        stages = set(lists.stages.index)
        labels = "、".join(lists.stages["name"])
        yield ((lambda s: s.isin(stages)),
               Rule(name, lambda rows: [f"应为 {labels} 之一，实为 {c}" for c in rows[name]], "阶段无效"))
    elif col.codes == "task":
        tasks = {int(t) for t in lists.tasks.index}
        yield ((lambda s: s.isin(tasks)),
               Rule(name, lambda rows: [f"任务 {c} 不存在（任务由督办部门登记）" for c in rows[name]], "任务编号无效"))


def _area_rules(name: str, area: Area, lists: CodeLists, label: Callable[[str], str]):
    """A county (or region) must be in the uploader's scope, and in the upload's region."""
    known = lists.below([area.province])
    scope, region = area.scope_regions, area.region_regions
    yield ((lambda s: s.isin(scope) | ~s.isin(known)),
           Rule(name, lambda rows: [f"{label(c)} 不在您的报送范围内" for c in rows[name]], "不在报送范围内"))
    if area.region is not None:
        region_name = lists.name(area.region) or area.region
        yield ((lambda s: s.isin(region) | ~s.isin(scope)),
               Rule(name, lambda rows: [f"{label(c)} 不属于本次报送的地区（{region_name}）" for c in rows[name]],
                    "不属于本次报送的地区"))


def _row_rules(sheet: Sheet, ctx: Context, present: set[str]):
    """Checks across columns: a ≤ k × b, an item's department, a row's region via its project or task."""
    for a, b, k in sheet.le:
        if a not in present or b not in present:
            continue
        ca, cb = sheet.column(a), sheet.column(b)
        times = "" if k == 1 else f" × {k:g}"

        def le(df, a=a, b=b, k=k):
            return (df[a] <= df[b] * k).fillna(True).astype(bool)

        def words(rows, a=a, b=b, ca=ca, cb=cb, times=times):
            return [f"（{show(x, ca)}）不应大于「{cb.header}」（{show(y, cb)}）{times}"
                    for x, y in zip(rows[a], rows[b], strict=True)]

        yield le, Rule(a, words, f"大于「{cb.header}」{times}")
    if "item_code" in present and "dept_code" in present and sheet.column("item_code").codes == "service_item":
        depts = ctx.item_depts
        dname = ctx.lists.departments["name"]
        iname = ctx.lists.items["name"]

        def same_dept(df):
            expected = lookup(df["item_code"], depts)
            given = df["dept_code"].astype(object)
            return (given == expected) | expected.isna() | given.isna()

        def dept_words(rows):
            out = []
            for d, i in zip(rows["dept_code"], rows["item_code"], strict=True):
                owner = depts.get(i)
                item = f"{i}（{iname.get(i, '本文件新增')}）"
                out.append(f"{d} 与事项 {item}的主管部门 {owner}（{dname.get(owner, '')}）不一致")
            return out

        yield same_dept, Rule("dept_code", dept_words, "部门与事项不一致")
    if sheet.region_via and REGION in present:
        lists, area = ctx.lists, ctx.area
        via_col = sheet.column(sheet.region_via)
        noun = "项目" if via_col.codes == "project" else "任务"
        for fn, rule in _area_rules(REGION, area, lists, lambda c: f"{c} {lists.name(c)}"):
            def on_frame(df, fn=fn):
                return fn(df[REGION]).fillna(True).astype(bool) | df[REGION].isna()

            def via_words(rows, rule=rule):
                texts = rule.words(rows)
                return [f"{noun} {v} 所在地区 {t}" for v, t in zip(rows[sheet.region_via], texts, strict=True)]

            yield on_frame, Rule(sheet.region_via, via_words, rule.what)


def lookup(codes: pd.Series, table: pd.Series) -> pd.Series:
    """``table[code]`` for each code (None when absent), via the categories when categorical."""
    if isinstance(codes.dtype, pd.CategoricalDtype):
        values = table.reindex(codes.cat.categories).astype(object).to_numpy()
        idx = codes.cat.codes.to_numpy()
        out = np.where(idx >= 0, values[np.maximum(idx, 0)] if len(values) else None, None)
    else:
        out = codes.map(table).to_numpy(dtype=object)
    return pd.Series(out, index=codes.index, dtype=object).where(lambda s: s.notna(), None)


def failures(schema: pa.DataFrameSchema, rules: dict[str, Rule], df: pd.DataFrame, sheet: Sheet,
             rows: np.ndarray, already: dict[str, set[int]]) -> dict[str, tuple[list[Problem], int]]:
    """Run the schema lazily; per check id, (the first problems, how many rows failed).

    ``rows`` maps positions to the clerk's row numbers; ``already`` holds, per column, the
    positions whose cell could not be parsed (reported once, not again as 「不能为空」)."""
    try:
        schema.validate(df, lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return {}
    out: dict[str, tuple[list[Problem], int]] = {}
    cases = cases[cases["index"].notna()]
    for (check, column), group in cases.groupby(["check", "column"], sort=False, dropna=False):
        if check == UNIQUE:
            continue
        positions = pd.unique(group["index"].astype("int64"))
        col: Column | None
        if check == NOT_NULLABLE:
            positions = np.array([p for p in positions if p not in already.get(column, set())], dtype="int64")
            key, col = f"{column}:required", sheet.column(column)
            words = ["必填，不能为空"] * min(len(positions), CAP_PER_CHECK)
        elif check in rules:
            key, rule = check, rules[check]
            col = sheet.column(rule.column) if rule.column and rule.column != REGION else None
            words = rule.words(df.iloc[np.sort(positions)[:CAP_PER_CHECK]])
        else:
            raise RuntimeError(f"未翻译的校验失败：{check}（{column}）")
        positions = np.sort(positions)
        if not len(positions):
            continue
        found = [Problem(sheet.title, _row(rows, p), col.header if col else None, w)
                 for p, w in zip(positions[:CAP_PER_CHECK], words, strict=False)]
        prev, count = out.get(key, ([], 0))
        out[key] = (prev + found, count + len(positions))
    dup = cases[cases["check"] == UNIQUE]
    if len(dup):
        positions = np.sort(pd.unique(dup["index"].astype("int64")))
        out["unique"] = duplicates(df, sheet, positions, rows)
    return out


def duplicates(df: pd.DataFrame, sheet: Sheet, positions: np.ndarray, rows: np.ndarray) -> tuple[list[Problem], int]:
    """Each duplicated row, naming the other rows with the same key."""
    keys = list(sheet.keys)
    sub = df.iloc[positions][keys].copy()
    sub["_pos"] = positions
    problems = []
    for _, group in sub.groupby(keys, sort=False, dropna=False, observed=True):
        if len(group) < 2:
            continue
        first = group.iloc[0]
        what = "，".join(f"{sheet.column(k).header} {show(first[k], sheet.column(k))}" for k in keys)
        for p in group["_pos"]:
            others = "、".join(str(_row(rows, q)) for q in group["_pos"] if q != p)
            problems.append(Problem(sheet.title, _row(rows, p), None, f"与第 {others} 行重复（{what}）"))
    return problems[:CAP_PER_CHECK], len(problems)


def _row(rows: np.ndarray, position: int) -> int | None:
    value = rows[position]
    return None if value is None or pd.isna(value) else int(value)
