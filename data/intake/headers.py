"""Recognising a sheet from its title and header row (header aliases included).

Headers are compared after NFKC (full-width → half-width), with spaces, line breaks and
required-marks (*) removed and ASCII lower-cased; a trailing unit in brackets
(「办件量（件）」) is also tried without it. A title row above the header is allowed when
it is obviously a title: at most :data:`MAX_TITLE_ROWS` rows, each with at most two cells.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from data.intake.spec import Sheet

HEAD_ROWS = 10  # rows searched for the header
MAX_TITLE_ROWS = 5
_SPACE = re.compile(r"[\s*]+")
_UNIT = re.compile(r"\([^()]*\)$")


def norm_text(value: object) -> str:
    """A header or title as compared: NFKC, no spaces or *, ASCII lower-case."""
    if value is None:
        return ""
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(value))).lower()


def column_letter(position: int) -> str:
    """Excel's letter for a 0-based column position (0 → A, 27 → AB)."""
    out = ""
    n = position + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def header_table(sheet: Sheet) -> dict[str, str]:
    """Normalised header or alias → column name."""
    table: dict[str, str] = {}
    for col in sheet.columns:
        for h in col.headers:
            table.setdefault(norm_text(h), col.name)
    return table


def match_header(cell: object, table: dict[str, str]) -> str | None:
    key = norm_text(cell)
    if not key:
        return None
    if key in table:
        return table[key]
    bare = _UNIT.sub("", key)
    return table.get(bare) if bare else None


@dataclass(frozen=True)
class HeaderMatch:
    sheet: Sheet
    header_row: int  # row number of the header
    columns: dict[int, str]  # position → column name (first occurrence)
    duplicates: dict[str, list[int]]  # column name → every position when it appears twice
    unknown: dict[int, str]  # position → header text not recognised
    missing: tuple[str, ...]  # required columns (names) not found
    title_rows_ok: bool  # rows above the header look like a title

    @property
    def score(self) -> tuple[int, int]:
        return (-len(self.missing), len(self.columns))


def match_sheet(sheet: Sheet, head: list[tuple[int, tuple]]) -> HeaderMatch | None:
    """The best header row for ``sheet`` among the first rows ``head`` (row number, values)."""
    table = header_table(sheet)
    best: HeaderMatch | None = None
    for k, (row_no, values) in enumerate(head):
        found: dict[str, list[int]] = {}
        unknown = {}
        for pos, cell in enumerate(values):
            name = match_header(cell, table)
            if name:
                found.setdefault(name, []).append(pos)
            elif norm_text(cell):
                unknown[pos] = str(cell).strip()
        if len(found) < 2:
            continue
        above = [v for _, v in head[:k]]
        title_ok = len(above) <= MAX_TITLE_ROWS and all(sum(1 for c in r if norm_text(c)) <= 2 for r in above)
        missing = tuple(c.name for c in sheet.columns if c.required and c.name not in found)
        match = HeaderMatch(
            sheet=sheet, header_row=row_no, columns={p[0]: n for n, p in found.items()},
            duplicates={n: p for n, p in found.items() if len(p) > 1}, unknown=unknown,
            missing=missing, title_rows_ok=title_ok,
        )
        if best is None or match.score > best.score:
            best = match
    return best


def identify(title: str, head: list[tuple[int, tuple]], candidates: list[Sheet]) -> HeaderMatch | None:
    """The spec sheet this table is: by its title when it names one, else by its headers.

    A header-only match needs at least three recognised columns, so an unrelated sheet
    with a 「月份」 column is not taken for a report."""
    key = norm_text(title)
    named = [s for s in candidates if key in (norm_text(s.title), s.key)]
    if named:
        return match_sheet(named[0], head)
    matches = [m for m in (match_sheet(s, head) for s in candidates) if m and len(m.columns) >= 3]
    return max(matches, key=lambda m: m.score, default=None)
