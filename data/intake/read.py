"""Reading an upload (.xlsx or .csv) into raw sheets with canonical column names.

Every failure is an :class:`IntakeError` with Chinese problems, never a traceback. The
result keeps raw cell values (object dtype) indexed by the row number the clerk sees;
:mod:`data.intake.validate` turns them into typed rows.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import PurePath

import pandas as pd

from data.intake import csvfile, xlsx
from data.intake.errors import CAP_PER_CHECK, IntakeError, Problem, capped
from data.intake.headers import HEAD_ROWS, MAX_TITLE_ROWS, HeaderMatch, column_letter, identify, norm_text
from data.intake.spec import Sheet, load_families

CSV_CHUNK_ROWS = 100_000


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    """Upload limits; the defaults come from ``COCKPIT_UPLOAD_MAX_MB`` (50) and
    ``COCKPIT_UPLOAD_MAX_ROWS`` (500,000 rows per sheet)."""

    max_bytes: int = 50 * 2**20
    max_rows: int = 500_000
    max_unzipped_bytes: int = 1024 * 2**20  # a 500,000-row sheet is about 300 MB of XML
    max_ratio: int = 200  # Excel's sheets compress 10–30:1; bombs 1000:1 and more
    max_members: int = 2000

    @classmethod
    def from_env(cls) -> Limits:
        return cls(max_bytes=_env_int("COCKPIT_UPLOAD_MAX_MB", 50) * 2**20,
                   max_rows=_env_int("COCKPIT_UPLOAD_MAX_ROWS", 500_000))

    def zip_limits(self) -> xlsx.ZipLimits:
        return xlsx.ZipLimits(self.max_unzipped_bytes, self.max_ratio, self.max_members)


DEFAULT_LIMITS = Limits.from_env()


@dataclass
class ParsedUpload:
    family: str
    sheets: dict[str, pd.DataFrame]  # sheet key → raw cells, canonical names, index = row number
    filename: str
    sha256: str
    warnings: list[Problem] = field(default_factory=list)


def read_upload(data: bytes, filename: str, *, family: str | None = None,
                limits: Limits = DEFAULT_LIMITS) -> ParsedUpload:
    """Read an uploaded file; identify its family and sheets by titles and headers."""
    families = load_families()
    if family is not None and family not in families:
        raise IntakeError(f"未知的数据类别：{family}")
    size = len(data)
    if size == 0:
        raise IntakeError("文件为空（0 字节），请检查后重新上传")
    if size > limits.max_bytes:
        raise IntakeError(f"文件大小 {size / 2**20:.1f} MB，超过 {limits.max_bytes / 2**20:.0f} MB 的上限，"
                          "请按月份或地区拆分后分批上传")
    suffix = PurePath(filename).suffix.lower()
    candidates = [s for f in families.values() if family in (None, f.name) for s in f.sheets]
    reader = _Reader(filename, candidates, limits)
    if suffix in (".xlsm", ".xltm", ".xlsb"):
        raise IntakeError("不接收含宏的工作簿（.xlsm），请另存为 .xlsx")
    if suffix == ".xls" or (suffix != ".xlsx" and data.startswith(xlsx.OLE_SIGNATURE)):
        raise IntakeError("不支持旧版 Excel 格式（.xls），请在 Excel 中另存为 .xlsx")
    if suffix == ".xlsx":
        # rows above the limit: the header, and title rows above it
        for raw in xlsx.sheets(data, limits.zip_limits(), limits.max_rows + 1 + MAX_TITLE_ROWS):
            reader.add_xlsx_sheet(raw)
    elif suffix == ".csv":
        if data.startswith(xlsx.ZIP_SIGNATURE):
            raise IntakeError("文件内容是 Excel 工作簿而不是 CSV，请把扩展名改为 .xlsx 后上传")
        reader.add_csv(data)
    else:
        shown = suffix or "（无扩展名）"
        raise IntakeError(f"不支持的文件类型「{shown}」，请上传 .xlsx 或 .csv 文件")
    return reader.result(hashlib.sha256(data).hexdigest(), family)


class _Reader:
    """Collects the recognised sheets of one file and the problems met on the way."""

    def __init__(self, filename: str, candidates: list[Sheet], limits: Limits):
        self.filename = filename
        self.candidates = candidates
        self.limits = limits
        self.sheets: dict[str, pd.DataFrame] = {}
        self.found: dict[str, Sheet] = {}
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    # ---- one table (an xlsx sheet or the csv)

    def _match(self, title: str, head: list[tuple[int, tuple]],
               merges: tuple[str, ...] = ()) -> HeaderMatch | None:
        """The spec sheet of this table, or None after recording why it cannot be used."""
        match = identify(title, head, self.candidates)
        if match is None:
            known = norm_text(title) in {norm_text(s.title) for s in self.candidates}
            if known:
                self.errors.append(Problem(title, None, None, "找不到表头行，请保留模板第 1 行的列名"))
            elif self.filename.lower().endswith(".csv"):
                self.errors.append(Problem("", None, None, "无法识别 CSV 的表头，请使用模板中的列名（第 1 行）"))
            else:
                self.warnings.append(Problem(title, None, None, "未识别为任何报送表（表名和表头都不符），已忽略",
                                             "warning"))
            return None
        sheet = match.sheet
        merged = xlsx.merge_problems(sheet.title, merges, match.header_row)
        if merged:  # merged headers also hide columns: the merge is what to fix
            self.errors += merged
            return None
        problems = []
        if sheet.key in self.found:
            problems.append(Problem(sheet.title, None, None,
                                    f"文件中有两张〔{sheet.title}〕（「{title}」），请合并为一张"))
        if not match.title_rows_ok:
            problems.append(Problem(sheet.title, None, None, f"表头应在第 1 行（现在第 {match.header_row} 行，"
                                                             "上方还有数据），请删除表头上方的行"))
        for name, positions in match.duplicates.items():
            letters = "、".join(column_letter(p) for p in positions)
            problems.append(Problem(sheet.title, None, sheet.column(name).header, f"出现了不止一次（第 {letters} 列）"))
        if match.missing:
            other = self._other_family(title, head)
            if other is not None:
                problems.append(other)
            else:
                headers = "、".join(f"「{sheet.column(n).header}」" for n in match.missing)
                problems.append(Problem(sheet.title, None, None, f"缺少必填列：{headers}"))
        for pos, text in match.unknown.items():
            self.warnings.append(Problem(sheet.title, None, None,
                                         f"未识别的列「{text}」（第 {column_letter(pos)} 列）已忽略", "warning"))
        self.errors += problems
        return None if problems else match

    def _other_family(self, title: str, head: list[tuple[int, tuple]]) -> Problem | None:
        """When the family was chosen and the table is complete for another family's sheet."""
        others = [s for f in load_families().values() for s in f.sheets if s not in self.candidates]
        match = identify(title, head, others) if others else None
        if match is None or match.missing:
            return None
        families = load_families()
        chosen = "、".join(sorted({families[s.family].label for s in self.candidates}))
        found = f"〔{match.sheet.title}〕（{families[match.sheet.family].label}）"
        return Problem("", None, None, f"文件内容是{found}的数据，不属于「{chosen}」，请选择正确的数据类别")

    def add_xlsx_sheet(self, raw: xlsx.RawSheet) -> None:
        head = []
        for row_no, values in raw.rows:
            head.append((row_no, values))
            if row_no >= HEAD_ROWS or len(head) >= HEAD_ROWS:
                break
        match = self._match(raw.title, head, raw.scan.merges)
        if match is None:
            return
        sheet = match.sheet
        if raw.scan.over:
            raise IntakeError(self._too_many(sheet))
        positions = sorted(match.columns)
        if raw.grid is not None:
            frame = self._body_from_grid(raw.grid(), positions, match)
        else:
            frame = self._body_from_rows(head, raw.rows, positions, match)
        if len(frame) > self.limits.max_rows:
            raise IntakeError(self._too_many(sheet))
        if raw.formulas is not None:
            self._formula_problems(sheet, raw.formulas, frame, match)
        self._keep(sheet, frame)

    @staticmethod
    def _body_from_grid(grid: pd.DataFrame, positions: list[int], match: HeaderMatch) -> pd.DataFrame:
        """The rows below the header that hold a value in a matched column, vectorised."""
        body = grid.loc[grid.index > match.header_row].reindex(columns=positions)
        frame = pd.DataFrame({match.columns[p]: body[p].astype(object) for p in positions})
        present = frame.notna()
        keep = present.any(axis=1)
        # a row of only a few cells may be spaces alone: those few rows get the exact check
        sparse = keep & (present.sum(axis=1) <= 3)
        if sparse.any():
            keep[sparse] = _non_empty(frame[sparse])
        return frame[keep]

    @staticmethod
    def _body_from_rows(head, rows, positions: list[int], match: HeaderMatch) -> pd.DataFrame:
        cols: list[list] = [[] for _ in positions]
        numbers: list[int] = []
        for row_no, values in [*head, *rows]:
            if row_no <= match.header_row:
                continue
            cells = [values[p] if p < len(values) else None for p in positions]
            if any(v is not None and (not isinstance(v, str) or v.strip()) for v in cells):
                numbers.append(row_no)
                for target, v in zip(cols, cells, strict=True):
                    target.append(v)
        frame = pd.DataFrame({match.columns[p]: pd.Series(c, dtype=object) for p, c in zip(positions, cols,
                                                                                             strict=True)})
        frame.index = pd.Index(numbers, dtype="int64")
        return frame

    def add_csv(self, data: bytes) -> None:
        enc = csvfile.detect_encoding(data)
        sep = csvfile.delimiter(data, enc)
        title = PurePath(self.filename).stem
        match = self._match(title, csvfile.head_rows(data, enc, sep, HEAD_ROWS))
        if match is None:
            return
        positions = sorted(match.columns)
        parts, count = [], 0
        for chunk in csvfile.body_chunks(data, enc, sep, match.header_row,
                                         positions, CSV_CHUNK_ROWS):
            chunk.columns = [match.columns[p] for p in positions]
            chunk = chunk[_non_empty(chunk)]
            count += len(chunk)
            if count > self.limits.max_rows:
                raise IntakeError(self._too_many(match.sheet))
            parts.append(chunk)
        frame = pd.concat(parts) if parts else pd.DataFrame(columns=[match.columns[p] for p in positions],
                                                           dtype=object)
        self._keep(match.sheet, frame.astype(object))

    # ---- shared

    def _too_many(self, sheet: Sheet) -> Problem:
        return Problem(sheet.title, None, None,
                       f"超过每表 {self.limits.max_rows} 行的上限，请按月份或地区拆分后分批上传")

    def _formula_problems(self, sheet: Sheet, reader: xlsx.FormulaReader, frame: pd.DataFrame,
                          match: HeaderMatch) -> None:
        empty = frame.isna()
        suspects = {int(r) for r in frame.index[empty.any(axis=1)]}
        if not suspects:
            return
        problems = []
        for row_no, pos in reader.formula_cells(suspects, set(match.columns)):
            name = match.columns[pos]
            if pd.isna(frame.at[row_no, name]):
                problems.append(Problem(sheet.title, row_no, sheet.column(name).header,
                                        "是公式但没有计算结果，请在 Excel 中打开并保存后再上传"))
        self.errors += capped(problems[:CAP_PER_CHECK], len(problems), sheet.title, None, "公式没有计算结果")

    def _keep(self, sheet: Sheet, frame: pd.DataFrame) -> None:
        frame = _drop_example_row(sheet, frame, self.warnings)
        self.sheets[sheet.key] = frame
        self.found[sheet.key] = sheet

    def result(self, sha256: str, family: str | None) -> ParsedUpload:
        families = {s.family for s in self.found.values()}
        if len(families) > 1:
            labels = "、".join(sorted(load_families()[f].label for f in families))
            self.errors.append(Problem("", None, None, f"一个文件只能报送一类数据，本文件包含：{labels}"))
        if not self.found and not self.errors:
            titles = "、".join(f"〔{s.title}〕" for s in self.candidates)
            self.errors.append(Problem("", None, None, f"文件中没有可识别的报送表，应为：{titles}"))
        if self.errors:
            raise IntakeError(self.errors + self.warnings)
        return ParsedUpload(family or families.pop(), self.sheets, self.filename, sha256, self.warnings)


def _non_empty(chunk: pd.DataFrame) -> pd.Series:
    """Rows with at least one non-blank cell (missing, empty or only spaces is blank)."""
    if chunk.empty:
        return pd.Series(False, index=chunk.index)
    return chunk.apply(lambda s: s.notna() & s.astype(str).str.strip().ne("")).any(axis=1)


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, datetime) and value == datetime.combine(value.date(), time()):
        value = value.date()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _drop_example_row(sheet: Sheet, frame: pd.DataFrame, warnings: list[Problem]) -> pd.DataFrame:
    """The template's example row, left in by the clerk, is not data."""
    if frame.empty:
        return frame
    example = {c: _cell_text(v) for c, v in sheet.example.items() if c in frame.columns and _cell_text(v)}
    first = frame.iloc[0]
    if len(example) >= 3 and all(_cell_text(first[c]) == v for c, v in example.items()):
        warnings.append(Problem(sheet.title, int(frame.index[0]), None, "与模板示例行相同，已视为示例忽略", "warning"))
        return frame.iloc[1:]
    return frame
