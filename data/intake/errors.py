"""What the intake reports to the clerk: problems with a place (sheet, row, column)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from metrics.errors import UserError

Level = Literal["error", "warning"]

# beyond this many problems of one kind, the rest are counted, not listed
CAP_PER_CHECK = 200


@dataclass(frozen=True)
class Problem:
    sheet: str  # the sheet's Chinese title ("" for the file as a whole)
    row: int | None  # the row number the clerk sees in Excel (or the CSV line)
    column: str | None  # the column's Chinese header
    message: str
    level: Level = "error"

    def __str__(self) -> str:
        where = f"〔{self.sheet}〕" if self.sheet else ""
        if self.row is not None:
            where += f"第 {self.row} 行"
        if self.column:
            where += f"「{self.column}」"
        return f"{where}{self.message}"


class IntakeError(UserError):
    """The upload cannot be read at all; ``problems`` say why, in Chinese."""

    def __init__(self, problems: Iterable[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("", None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("；".join(str(p) for p in self.problems))


def capped(problems: list[Problem], total: int, sheet: str, column: str | None, what: str) -> list[Problem]:
    """``problems`` (already cut to CAP_PER_CHECK) plus a line counting the ``total - len`` not listed."""
    rest = total - len(problems)
    if rest > 0:
        level = problems[0].level if problems else "error"
        problems = [*problems, Problem(sheet, None, column, f"另有 {rest} 行{what}未逐一列出", level)]
    return problems
