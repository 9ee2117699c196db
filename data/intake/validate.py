"""Validating a family's sheets: every problem, in Chinese, with sheet, row and column.

One path serves uploads (:func:`validate`), the demo generator and the 填报 grid
(:func:`validate_frames`). A sheet's value may be one DataFrame or an iterable of
DataFrames (chunks, e.g. one per month); chunks are checked one at a time and
``Report.frames[sheet]`` is always a list of typed chunks holding exactly the table's
stored columns, ready to insert (empty when there are errors).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeAlias

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa

from data.intake import normalise, panel_checks, schema
from data.intake.codes import Area, CodeLists, run
from data.intake.errors import CAP_PER_CHECK, Problem, capped
from data.intake.read import ParsedUpload
from data.intake.spec import Sheet, load_families
from data.scope import Scope, require

SheetValue: TypeAlias = pd.DataFrame | Iterable[pd.DataFrame]


@dataclass
class ValidationContext:
    con: duckdb.DuckDBPyConnection  # a read connection to the current database version
    scope: Scope  # where the uploader may report
    region: str | None = None  # the region the upload is for (default: the scope's regions)
    today: date = field(default_factory=date.today)


@dataclass
class Report:
    family: str
    frames: dict[str, list[pd.DataFrame]]  # sheet key → typed chunks (stored columns only)
    errors: list[Problem]
    warnings: list[Problem]
    months: list[date]  # months the rows belong to
    regions: list[str]  # counties (or task regions) touched
    rows: int
    source: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def frame(self, sheet: str) -> pd.DataFrame:
        """One sheet's typed rows as a single DataFrame."""
        chunks = self.frames.get(sheet, [])
        return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()


def validate(parsed: ParsedUpload, ctx: ValidationContext) -> Report:
    """Validate a read upload; the reader's warnings come first."""
    report = validate_frames(parsed.family, parsed.sheets, ctx, source=parsed.filename)
    report.warnings = [*parsed.warnings, *report.warnings]
    return report


def validate_frames(family: str, frames: dict[str, SheetValue], ctx: ValidationContext, *, source: str) -> Report:
    """Validate canonical frames (DB column names; index = the row numbers to quote)."""
    spec = load_families()[family]
    require(ctx.scope)
    lists = CodeLists.load(ctx.con)
    area = Area.resolve(lists, ctx.scope, ctx.region)
    errors = [Problem("", None, None, p) for p in area.problems]
    unknown = set(frames) - {s.key for s in spec.sheets}
    errors += [Problem("", None, None, f"「{spec.label}」没有工作表 {k}") for k in sorted(unknown)]
    uploads = _Uploads.from_lists(lists)
    out: dict[str, list[pd.DataFrame]] = {}
    warnings: list[Problem] = []
    months: set = set()
    regions: set[str] = set()
    rows = 0
    for sheet in spec.sheets:  # registers come first in each spec, so later sheets may use them
        if sheet.key not in frames:
            continue
        check = _SheetCheck(sheet, ctx, lists, area, uploads)
        value = frames[sheet.key]
        for chunk in ([value] if isinstance(value, pd.DataFrame) else value):
            check.add(chunk)
        e, w = check.finish()
        errors += e
        warnings += w
        out[sheet.key] = check.chunks
        months |= check.months
        regions |= check.regions
        rows += check.rows
    if not rows and not errors:
        errors.append(Problem("", None, None, "文件中没有数据行（只有表头或示例行）"))
    if errors:
        out = {k: [] for k in out}
    return Report(family=family, frames=out, errors=errors, warnings=warnings,
                  months=sorted(pd.Timestamp(m).date() for m in months), regions=sorted(regions), rows=rows,
                  source=source)


@dataclass
class _Uploads:
    """Code lists extended by the registers of this upload (items, projects)."""

    item_depts: pd.Series
    item_names: pd.Series
    project_names: pd.Series
    project_regions: pd.Series

    @classmethod
    def from_lists(cls, lists: CodeLists) -> _Uploads:
        return cls(lists.items["dept_code"], lists.items["name"], lists.projects["name"],
                   lists.projects["county_code"])

    def add(self, key: str, typed: pd.DataFrame) -> None:
        def merged(old: pd.Series, key: str, col: str) -> pd.Series:
            new = typed.dropna(subset=[key]).drop_duplicates(key, keep="last").set_index(key)[col]
            return pd.concat([old[~old.index.isin(new.index)], new.astype(object)])

        if key == "service_item":
            self.item_depts = merged(self.item_depts, "item_code", "dept_code")
            self.item_names = merged(self.item_names, "item_code", "name")
        elif key == "project":
            self.project_names = merged(self.project_names, "project_id", "name")
            self.project_regions = merged(self.project_regions, "project_id", "county_code")


class _SheetCheck:
    """Checks one sheet chunk by chunk, then across chunks."""

    def __init__(self, sheet: Sheet, ctx: ValidationContext, lists: CodeLists, area: Area, uploads: _Uploads):
        self.sheet, self.ctx, self.lists, self.area, self.uploads = sheet, ctx, lists, area, uploads
        self.found: dict[str, tuple[list[Problem], int, str]] = {}  # check → (first problems, count, level)
        self.other_errors: list[Problem] = []
        self.chunks: list[pd.DataFrame] = []
        self.months: set = set()
        self.regions: set[str] = set()
        self.rows = 0
        self.dead = False  # a structural error: the remaining chunks are not checked
        self._schema: tuple[pa.DataFrameSchema, dict[str, schema.Rule]] | None = None
        self._types = _table_types(ctx.con, sheet.key)
        self._present: list[pd.DataFrame] = []
        self._totals: list[pd.DataFrame] = []
        self._hashes: list[tuple[np.ndarray, np.ndarray, int]] = []
        # names accepted for codes, compared as the parser sees them (NFKC: 「实施(开工)」)
        self._names = {"project_stage": {unicodedata.normalize("NFKC", n): c
                                         for n, c in zip(lists.stages["name"], lists.stages.index, strict=True)}}

    # ---- problems

    def _log(self, key: str, problems: list[Problem], count: int, what: str = "同类问题") -> None:
        prev, n, _ = self.found.get(key, ([], 0, what))
        room = CAP_PER_CHECK - len(prev)
        self.found[key] = (prev + problems[:max(room, 0)], n + count, what)

    @property
    def failed(self) -> bool:
        return bool(self.other_errors) or any(p and p[0].level == "error" for p, _, _ in self.found.values())

    # ---- one chunk

    def add(self, chunk: pd.DataFrame) -> None:
        if self.dead:
            return
        sheet = self.sheet
        if not self.rows and not self.chunks:
            missing = [c.header for c in sheet.columns if c.required and c.stored and c.name not in chunk.columns]
            if missing:
                self.other_errors.append(Problem(sheet.title, None, None, f"缺少必填列：{'、'.join(missing)}"))
                self.dead = True
                return
            if not sheet.region_column and not self.area.whole_province:
                self.other_errors.append(Problem(sheet.title, None, None,
                                                 "由省级统一维护，您的报送范围不能修改，请联系省级管理员"))
                self.dead = True
                return
        row_numbers = _row_numbers(chunk.index)
        chunk = chunk.reset_index(drop=True)
        self.rows += len(chunk)
        typed, unreadable = self._parse(chunk, row_numbers)
        if self._schema is None:
            self._schema = schema.build(sheet, self._context(), set(typed.columns))
        frame_schema, rules = self._schema
        found = schema.failures(frame_schema, rules, typed, sheet, row_numbers, unreadable)
        for key, (problems, count) in found.items():
            self._log(key, problems, count, rules[key].what if key in rules else "同类问题")
        self._name_warnings(chunk, typed, row_numbers)
        self._collect(typed, row_numbers)
        if self.failed:
            self.chunks = []
        else:
            self.chunks.append(self._output(typed))
        if sheet.key in ("service_item", "project"):
            self.uploads.add(sheet.key, typed)

    def _context(self) -> schema.Context:
        region_of = None
        if self.sheet.region_via == "project_id":
            region_of = self.uploads.project_regions
        elif self.sheet.region_via == "task_id":
            region_of = self.lists.tasks["region_code"]
        return schema.Context(self.lists, self.area, self.ctx.today, self.uploads.item_depts,
                              set(self.uploads.project_names.index), region_of)

    def _parse(self, chunk: pd.DataFrame, row_numbers: np.ndarray) -> tuple[pd.DataFrame, dict[str, set[int]]]:
        sheet = self.sheet
        typed: dict[str, pd.Series] = {}
        unreadable: dict[str, set[int]] = {}
        for col in sheet.columns:
            if col.name not in chunk.columns:
                continue
            parsed = normalise.parse(chunk[col.name], col, self._names.get(col.codes or ""))
            typed[col.name] = parsed.values
            bad = np.flatnonzero(parsed.bad.to_numpy())
            if len(bad):
                unreadable[col.name] = set(bad.tolist())
                text = schema.type_text(col)
                problems = [Problem(sheet.title, _int(row_numbers[p]), col.header,
                                    f"{text}，实为 {normalise.cell_text(chunk.at[p, col.name])}")
                            for p in bad[:CAP_PER_CHECK]]
                self._log(f"{col.name}:type", problems, len(bad), "格式不正确")
        frame = pd.DataFrame(typed, index=chunk.index)
        for col in sheet.stored:
            if col.name not in frame.columns:
                frame[col.name] = self._filler(col, frame)
        if sheet.region_via and sheet.region_via in frame.columns:
            ctx = self._context()
            frame[schema.REGION] = schema.lookup(frame[sheet.region_via], ctx.region_of)
        return frame, unreadable

    def _filler(self, col, frame: pd.DataFrame) -> pd.Series:
        """An optional column the upload lacks: NULL, or in update mode the current value."""
        if self.sheet.mode == "update" and col.name in self.lists.tasks.columns:
            current = self.lists.tasks[col.name]
            return frame[self.sheet.keys[0]].map(current).astype(object).where(lambda s: s.notna(), None)
        dtype = schema.PANDERA_DTYPES.get(col.type, object)
        return pd.Series(pd.array([None] * len(frame), dtype=dtype), index=frame.index)

    def _name_warnings(self, chunk: pd.DataFrame, typed: pd.DataFrame, row_numbers: np.ndarray) -> None:
        """An informational name that does not belong to its code (the code is what is stored)."""
        sheet = self.sheet
        for col in sheet.columns:
            if not col.name_of or col.name not in typed.columns or col.name_of not in typed.columns:
                continue
            code_col = sheet.column(col.name_of)
            names = self._names_of(code_col.codes)
            if names is None:
                continue
            given = _plain_each(typed[col.name])
            expected = schema.lookup(typed[col.name_of], names)
            wrong = given.notna() & expected.notna() & (given != _plain_each(expected))
            positions = np.flatnonzero(wrong.to_numpy())
            if len(positions):
                problems = [Problem(sheet.title, _int(row_numbers[p]), col.header,
                                    f"{typed.at[p, col.name]} 与「{code_col.header}」{typed.at[p, col.name_of]}"
                                    f"（{expected.iloc[p]}）不符，入库以代码为准，请核实", "warning")
                            for p in positions[:CAP_PER_CHECK]]
                self._log(f"{col.name}:name", problems, len(positions), "名称与代码不符")

    def _names_of(self, codes: str | None) -> pd.Series | None:
        lists = self.lists
        return {
            "county": lists.regions["name"], "department": lists.departments["name"],
            "service_item": self.uploads.item_names, "project": self.uploads.project_names,
            "task": lists.tasks["name"],
        }.get(codes or "")

    def _collect(self, typed: pd.DataFrame, row_numbers: np.ndarray) -> None:
        """What the checks across chunks need: months, regions, presence, totals, key hashes."""
        sheet = self.sheet
        if sheet.month_column:
            self.months |= set(typed[sheet.month_column].dropna().unique())
        region = sheet.region_column if sheet.region_column in typed.columns else schema.REGION
        if region in typed.columns:
            self.regions |= {str(r) for r in typed[region].dropna().unique()}
        if sheet.complete:
            cols = [sheet.month_column, sheet.region_column, *(k for k in sheet.keys if sheet.column(k).allowed)]
            self._present.append(typed[cols].dropna().drop_duplicates())
        if sheet.plausibility:
            cols = [sheet.month_column, sheet.region_column]
            totals = typed.groupby(cols, observed=True, dropna=True)[list(sheet.plausibility)].sum().reset_index()
            totals[sheet.region_column] = totals[sheet.region_column].astype(str)
            self._totals.append(totals)
        keys = typed[list(sheet.keys)]
        self._hashes.append((pd.util.hash_pandas_object(keys, index=False).to_numpy(), row_numbers,
                             len(self._hashes)))

    def _output(self, typed: pd.DataFrame) -> pd.DataFrame:
        """The stored columns, typed like the table."""
        out = {}
        for col in self.sheet.stored:
            out[col.name] = _as_table_type(typed[col.name], self._types.get(col.name, "VARCHAR"))
        return pd.DataFrame(out)

    # ---- across chunks

    def finish(self) -> tuple[list[Problem], list[Problem]]:
        sheet, lists = self.sheet, self.lists
        if not self.dead:
            self._cross_chunk_duplicates()
            if sheet.complete and self._present:
                present = pd.concat(self._present, ignore_index=True)
                counties = self.area.region_counties
                self._log("complete", panel_checks.completeness(sheet, present, lists, counties), 0)
            if sheet.checks_continuity and self.months:
                self._log("continuity", panel_checks.continuity(sheet, self.months, lists), 0)
            if sheet.plausibility and self._totals and not self.failed:
                totals = pd.concat(self._totals, ignore_index=True)
                totals = totals.groupby([sheet.month_column, sheet.region_column], observed=True).sum().reset_index()
                self._log("plausible", panel_checks.plausibility(sheet, totals, self.ctx.con, lists), 0)
        errors, warnings = list(self.other_errors), list[Problem]()
        for problems, count, what in self.found.values():
            full = capped(problems, max(count, len(problems)), sheet.title, None, what)
            for p in full:
                (warnings if p.level == "warning" else errors).append(p)
        if errors:
            self.chunks = []
        self._present, self._totals, self._hashes = [], [], []
        return errors, warnings

    def _cross_chunk_duplicates(self) -> None:
        """Duplicated keys in different chunks (within a chunk the schema reports them)."""
        if len(self._hashes) < 2:
            return
        hashes = np.concatenate([h for h, _, _ in self._hashes])
        chunk_of = np.concatenate([np.full(len(h), k) for h, _, k in self._hashes])
        rows = np.concatenate([r for _, r, _ in self._hashes])
        frame = pd.DataFrame({"h": hashes, "chunk": chunk_of, "row": rows})
        dup = frame[frame.duplicated("h", keep=False)]
        spread = dup.groupby("h")["chunk"].nunique()
        dup = dup[dup["h"].isin(spread.index[spread > 1])]
        problems = []
        for _, group in dup.groupby("h", sort=False):
            for r in group["row"]:
                others = "、".join(str(_int(o)) for o in group["row"] if o is not r)
                problems.append(Problem(self.sheet.title, _int(r), None, f"与第 {others} 行（另一数据块）的键重复"))
        if problems:
            self._log("unique-chunks", problems[:CAP_PER_CHECK], len(problems), "键重复")


# ---------------------------------------------------------------- helpers


def _row_numbers(index: pd.Index) -> np.ndarray:
    """The row numbers to quote: the index when it holds integers, else none."""
    if pd.api.types.is_integer_dtype(index.dtype):
        return index.to_numpy(dtype="int64").astype(object)
    return np.full(len(index), None, dtype=object)


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _plain(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).replace(" ", "").strip()


def _plain_each(values: pd.Series) -> pd.Series:
    """:func:`_plain` of every value, computed once per distinct value (names repeat)."""
    present = values.notna()
    codes, uniques = pd.factorize(values[present].astype(str))
    plain = np.array([_plain(u) for u in uniques], dtype=object)
    out = pd.Series(None, index=values.index, dtype=object)
    out[present] = plain[codes] if len(codes) else []
    return out


def _table_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    types = run(con, "table_types", {"table": table})
    return dict(zip(types["column_name"], types["data_type"], strict=True))


def _as_table_type(values: pd.Series, db_type: str) -> pd.Series:
    """A typed column in the dtype matching the DuckDB type (nullable dtypes when it has NULLs).

    DECIMAL money stays float64, rounded to cents: DuckDB casts it to DECIMAL exactly."""
    has_na = bool(values.isna().any())
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values
    base = db_type.split("(")[0]
    if base in ("INTEGER", "TINYINT", "SMALLINT", "BIGINT"):
        width = {"INTEGER": "32", "TINYINT": "8", "SMALLINT": "16", "BIGINT": "64"}[base]
        if pd.api.types.is_bool_dtype(values.dtype):
            values = values.astype("Int8")
        return values.astype(f"Int{width}" if has_na else f"int{width}")
    if base == "BOOLEAN":
        return values.astype("boolean" if has_na else "bool")
    if base in ("DECIMAL", "DOUBLE", "FLOAT"):
        return values.astype("Float64" if has_na else "float64")
    if base in ("DATE", "TIMESTAMP"):
        return values.astype(normalise.DATE_DTYPE)
    return values.astype("str").where(values.notna(), None) if has_na else values.astype("str")
