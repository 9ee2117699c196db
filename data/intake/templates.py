"""Upload templates and exports, generated from the family specs (never typed by hand).

A template has one sheet per spec sheet (Chinese headers, frozen header row, an example
row, dropdowns from the hidden 代码表 sheet), and a 填写说明 sheet describing every
column. An export is the same workbook holding a published month instead of the example,
so a clerk can download, correct and upload it again.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from data.intake.codes import CodeLists, run
from data.intake.headers import column_letter
from data.intake.spec import Column, Family, Sheet, load_families
from data.scope import Scope, require

GUIDE, CODES = "填写说明", "代码表"
VALIDATE_ROWS = 100_000  # rows that get dropdowns and number checks
MAX_LITERAL = 250  # Excel's inline list limit is 255 characters
TYPE_NAMES = {"month": "月份", "year": "年份", "date": "日期", "int": "整数", "decimal": "金额（两位小数）",
              "float": "数值", "bool": "是/否", "text": "文本", "code": "代码"}
CODE_NAMES = {"county": "区县", "department": "部门", "service_item": "事项", "project": "项目",
              "project_stage": "项目阶段", "task": "督办任务"}
MODE_TEXT = {
    "partition": "按「{p}」整体替换：文件中出现的每个「{p}」组合，数据库中该组合的数据全部以文件为准"
                 "（文件中没有的行将删除）",
    "upsert": "按「{k}」新增或更新：已有的记录被覆盖，文件中没有的记录保持不变",
    "update": "按「{k}」更新已登记的记录，只改写本表的填报列；缺少的选填列保持原值",
}
GENERAL = [
    "每张工作表第 1 行是表头（列名），请勿修改列名、合并单元格或删除必填列；多出的列导入时忽略并提示。",
    "第 2 行是示例，请覆盖或删除（原样保留的示例行会被忽略）。每行填写一条记录，中间不要留空行。",
    "月份写年月：2026-10、2026/10、202610、2026年10月 均可；日期写 2026-10-15 或 2026/10/15。",
    "是/否 列可填：是/否、Y/N、1/0、TRUE/FALSE。数字可带千分位（1,234），全角数字也能识别。",
    "代码列可从下拉列表选择（如「360102 东湖区」，导入时只取代码），也可只填代码；完整代码见隐藏的「代码表」。",
    "空白单元格和「—」「-」「/」的含义见下表「空白或「—」」列：「视为 0」的列按 0 入库；"
    "「视为缺失」的必填列会被拒收，选填列留空即不填。",
    "公式须有计算结果：在 Excel 中打开并保存后再上传。文件须为 .xlsx（不含宏、未加密）或 .csv（UTF-8 或 GBK）。",
]


def write_template(family: str, out: str | Path | BinaryIO, con: duckdb.DuckDBPyConnection) -> None:
    """The upload template of ``family`` as .xlsx (path or binary file)."""
    spec = load_families()[family]
    _workbook(spec, CodeLists.load(con), out, rows=None)


def write_export(family: str, con: duckdb.DuckDBPyConnection, *, month: date, region: str, scope: Scope,
                 out: str | Path | BinaryIO) -> None:
    """A published month in the template's format (CSV when ``out`` ends with .csv and the
    family has one sheet). Registers export every row in scope; monthly and yearly sheets
    the month (or its year) for the counties under ``region``."""
    require(scope)
    spec = load_families()[family]
    month = pd.Timestamp(month).date().replace(day=1)
    params = {**scope.params(), "month": month, "year": month.year, "region": region}
    rows = {s.key: _export_rows(s, run(con, f"export_{s.key}", params)) for s in spec.sheets}
    if isinstance(out, (str, Path)) and str(out).lower().endswith(".csv"):
        if len(spec.sheets) != 1:
            raise ValueError(f"「{spec.label}」有 {len(spec.sheets)} 张工作表，只能导出为 .xlsx")
        sheet = spec.sheets[0]
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([c.header for c in sheet.columns])
            for record in rows[sheet.key]:
                writer.writerow([_csv_text(v) for v in record])
        return
    _workbook(spec, CodeLists.load(con), out, rows=rows)


# ---------------------------------------------------------------- rows of an export


def _export_rows(sheet: Sheet, frame: pd.DataFrame) -> list[list]:
    """Each row as the clerk would type it (months 2026-10, 是/否, blanks for NULL)."""
    cols = []
    for col in sheet.columns:
        values = frame[col.name] if col.name in frame.columns else pd.Series([None] * len(frame), dtype=object)
        cols.append([_cell(v, col) for v in values])
    return [list(r) for r in zip(*cols, strict=True)] if cols else []


def _cell(value: Any, col: Column) -> object:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if col.type == "month":
        return pd.Timestamp(value).strftime("%Y-%m")
    if col.type == "date":
        return pd.Timestamp(value).to_pydatetime()
    if col.type == "bool":
        return "是" if bool(value) else "否"
    if col.type in ("int", "year"):
        return int(value)
    if col.type in ("decimal", "float"):
        return float(value)
    return str(value)


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------- the workbook


def _code_list(lists: CodeLists, name: str) -> pd.DataFrame:
    """code, name and the dropdown text of a code list (「360102 东湖区」)."""
    if name == "county":
        r = lists.regions
        province = r.index[r["parent_code"].isna()].tolist()
        frame = r[(r["level"] == "county") & r.index.isin(lists.below(province))][["name"]]
    else:
        frame = {"department": lists.departments, "service_item": lists.items, "project": lists.projects,
                 "project_stage": lists.stages, "task": lists.tasks}[name][["name"]]
    frame = frame.reset_index().rename(columns={"index": "code"})
    frame.columns = ["code", "name"]
    frame["code"] = frame["code"].astype(str)
    if name == "project_stage":
        frame["choice"] = frame["name"]
    elif name == "task":
        frame["choice"] = frame["code"]
    else:
        frame["choice"] = frame["code"] + " " + frame["name"].astype(str)
    return frame


class _Book:
    def __init__(self, out, lists: CodeLists):
        self.wb = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False, "strings_to_urls": False})
        self.lists = lists
        f = self.wb.add_format
        self.header = f({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
        self.header_required = f({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                  "valign": "vcenter", "font_color": "#C00000"})
        self.wrap = f({"text_wrap": True, "valign": "top"})
        self.title = f({"bold": True, "font_size": 14})
        self.formats = {"text": f({"num_format": "@"}), "code": f({"num_format": "@"}),
                        "month": f({"num_format": "@"}), "bool": f({"num_format": "@"}),
                        "date": f({"num_format": "yyyy-mm-dd"}), "int": f({"num_format": "0"}),
                        "year": f({"num_format": "0"}), "decimal": f({"num_format": "0.00"}),
                        "float": f({"num_format": "General"})}
        self.example = {k: f({"num_format": v.num_format, "italic": True, "font_color": "#808080"})
                        for k, v in self.formats.items()}
        self.code_ranges: dict[str, str] = {}
        self.code_sheet: Worksheet | None = None
        self.code_col = 0

    def code_range(self, key: str, header: str, values: pd.DataFrame) -> str:
        """Put a list on the hidden 代码表 sheet (choice, code, name); return its choice range."""
        if key in self.code_ranges:
            return self.code_ranges[key]
        ws, c = self.code_sheet, self.code_col
        if ws is None:
            ws = self.code_sheet = self.wb.add_worksheet(CODES)
            ws.hide()
        for k, (title, col) in enumerate(((f"{header}（下拉选项）", "choice"), (f"{header}代码", "code"),
                                          (f"{header}名称", "name"))):
            ws.write_string(0, c + k, title, self.header)
            for r, v in enumerate(values[col], start=1):
                ws.write_string(r, c + k, str(v))
            ws.set_column(c + k, c + k, 24)
        self.code_col += 4
        last = max(len(values), 1) + 1
        ref = f"='{CODES}'!${column_letter(c)}$2:${column_letter(c)}${last}"
        self.code_ranges[key] = ref
        return ref


def _workbook(spec: Family, lists: CodeLists, out, rows: dict[str, list[list]] | None) -> None:
    book = _Book(out, lists)
    guide = book.wb.add_worksheet(GUIDE)
    for sheet in spec.sheets:
        _data_sheet(book, sheet, rows.get(sheet.key) if rows is not None else None)
    _guide(book, guide, spec, lists)
    guide.activate()
    book.wb.close()


def _data_sheet(book: _Book, sheet: Sheet, rows: list[list] | None) -> None:
    ws = book.wb.add_worksheet(sheet.title)
    ws.freeze_panes(1, 0)
    ws.set_row(0, 32)
    for k, col in enumerate(sheet.columns):
        ws.write_string(0, k, col.header, book.header_required if col.required else book.header)
        note = "；".join(x for x in (col.caliber, f"单位：{col.unit}" if col.unit else "",
                                      "必填" if col.required else "选填",
                                      "不入库，仅供核对" if not col.stored else "") if x)
        ws.write_comment(0, k, note, {"x_scale": 2, "y_scale": 1.5})
        width = max(10, min(40, 2 * len(col.header) + 4))
        if (col.type == "text" and col.name in ("name", "title", "progress_note", "owner_unit")) or col.name_of:
            width = 28
        ws.set_column(k, k, width, book.formats[col.type])
        _validation(book, ws, k, col)
    if rows is None:
        rows = [[col.example for col in sheet.columns]]
        formats = book.example
    else:
        formats = book.formats
    for r, record in enumerate(rows, start=1):
        for k, (col, value) in enumerate(zip(sheet.columns, record, strict=True)):
            _write(ws, r, k, value, col, formats[col.type])


def _write(ws, r: int, k: int, value: object, col: Column, fmt) -> None:
    if value is None or value == "":
        return
    if col.type == "date":
        value = pd.Timestamp(value).to_pydatetime() if not isinstance(value, datetime) else value
        ws.write_datetime(r, k, value, fmt)
    elif col.type in ("int", "year", "decimal", "float") and not isinstance(value, str):
        ws.write_number(r, k, value, fmt)
    else:
        ws.write_string(r, k, str(value), fmt)


def _validation(book: _Book, ws, k: int, col: Column) -> None:
    """Dropdowns for code lists, allowed values and 是/否; number checks for ranges.
    Warnings, not stops: a pasted 「360102」 without its name is fine too."""
    options = {"error_type": "warning", "ignore_blank": True}
    rule: dict[str, object]
    if col.codes and col.stored:
        source = book.code_range(col.codes, CODE_NAMES[col.codes], _code_list(book.lists, col.codes))
        rule = {"validate": "list", "source": source}
    elif col.allowed or col.type == "bool":
        values = list(col.allowed) or ["是", "否"]
        if len(",".join(values)) <= MAX_LITERAL:
            rule = {"validate": "list", "source": values}
        else:
            frame = pd.DataFrame({"code": values, "name": values, "choice": values})
            rule = {"validate": "list", "source": book.code_range(f"allowed:{col.name}", col.header, frame)}
    elif col.type in ("int", "decimal", "float") and (col.min is not None or col.max is not None):
        kind = "integer" if col.type == "int" else "decimal"
        lo = col.min if col.min is not None else -1e15
        hi = col.max if col.max is not None else 1e15
        rule = {"validate": kind, "criteria": "between", "minimum": lo, "maximum": hi}
    else:
        return
    ws.data_validation(1, k, VALIDATE_ROWS, k, {**rule, **options})


def _guide(book: _Book, ws, spec: Family, lists: CodeLists) -> None:
    """填写说明: general rules, each sheet's mode and checks, then every column."""
    ws.write_string(0, 0, f"{spec.label} 报送模板 填写说明", book.title)
    r = 2
    for k, text in enumerate(GENERAL, start=1):
        ws.write_string(r, 0, f"{k}. {text}")
        r += 1
    for sheet in spec.sheets:
        r += 1
        ws.write_string(r, 0, f"〔{sheet.title}〕", book.header)
        r += 1
        for text in sheet_rules(sheet):
            ws.write_string(r, 0, f"· {text}")
            r += 1
    r += 1
    headers = ["工作表", "列名", "必填", "类型", "单位", "口径", "可选值或代码表", "空白或「—」", "可识别的其他列名",
               "示例"]
    for k, h in enumerate(headers):
        ws.write_string(r, k, h, book.header)
    first = r + 1
    for sheet in spec.sheets:
        for col in sheet.columns:
            r += 1
            for k, v in enumerate(column_guide(sheet, col, lists)):
                ws.write_string(r, k, v, book.wrap)
    ws.autofilter(first - 1, 0, r, len(headers) - 1)
    for k, w in enumerate([12, 16, 6, 12, 8, 48, 36, 14, 30, 18]):
        ws.set_column(k, k, w)


def sheet_rules(sheet: Sheet) -> list[str]:
    """The sheet-level rules as the guide states them."""
    head = {c.name: c.header for c in sheet.columns}
    out = [MODE_TEXT[sheet.mode].format(p=" × ".join(head[c] for c in sheet.partition),
                                        k="、".join(head[c] for c in sheet.keys))]
    out.append(f"每条记录由「{'、'.join(head[c] for c in sheet.keys)}」唯一确定，不得重复。")
    if sheet.complete:
        extra = [head[k] for k in sheet.keys if sheet.column(k).allowed]
        out.append("报送地区内每个区县每月都须报送" + (f"（每个「{'、'.join(extra)}」各一行）" if extra else "") + "。")
    if sheet.checks_continuity:
        out.append("月份须接续数据库最新月份，不能跳月；当月未结束不能报送。")
    for a, b, k in sheet.le:
        times = "" if k == 1 else f" × {k:g}"
        out.append(f"「{head[a]}」不得大于「{head[b]}」{times}。")
    if sheet.plausibility:
        names = "、".join(f"「{head[m]}」" for m in sheet.plausibility)
        out.append(f"{names}的区县合计与上月相比变化异常时会提示核实（不阻止导入）。")
    return out


def column_guide(sheet: Sheet, col: Column, lists: CodeLists | None = None) -> list[str]:
    """One row of the guide's column table."""
    if col.codes:
        choices = f"代码表「{CODE_NAMES[col.codes]}」" + ("（可填名称或代码）" if col.accept_names else "")
        if col.codes == "project_stage" and lists is not None:
            choices += "：" + "、".join(lists.stages["name"])
    elif col.allowed:
        choices = "、".join(col.allowed)
    elif col.type == "bool":
        choices = "是、否"
    elif col.min is not None or col.max is not None:
        lo = "" if col.min is None else f"{col.min:g}"
        hi = "" if col.max is None else f"{col.max:g}"
        choices = f"{lo}–{hi}" if lo and hi else (f"≥ {lo}" if lo else f"≤ {hi}")
    else:
        choices = ""
    if col.pattern_text:
        choices = col.pattern_text
    if not col.stored:
        blank = "不入库"
    elif col.blank == "zero":
        blank = "视为 0" if col.type != "bool" else "视为 否"
    else:
        blank = "视为缺失（必填列不允许）" if col.required else "视为缺失"
    example = "" if col.example is None else str(col.example)
    return [sheet.title, col.header, "是" if col.required else "否", TYPE_NAMES[col.type], col.unit,
            col.caliber, choices, blank, "、".join(col.aliases), example]


def template_bytes(family: str, con: duckdb.DuckDBPyConnection) -> bytes:
    """The template as bytes (for a download response)."""
    buf = io.BytesIO()
    write_template(family, buf, con)
    return buf.getvalue()
