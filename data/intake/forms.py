"""填报: the two facts people type on the 数据管理 page instead of uploading a file.

- 督办任务进展 (family ``tasks``, sheet ``task``): status, completion %, note, evidence link;
- 项目里程碑 (family ``projects``, sheet ``project_event``): project, stage, date, note.

The grids are loaded from the current version within the viewer's scope (``form_*.sql``).
On 提交 only the rows that differ from the current data are kept, as a DataFrame with the
spec's DB column names indexed by the grid's row number (``_row``), so the problems the
validation reports (with row numbers) point back at grid rows. The frames then go through
the same validation and publish path as an upload (:func:`data.intake.publish.prepare_frames`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from data import db
from data.intake.errors import Problem
from data.intake.spec import Sheet, load_families
from data.scope import Scope, require

SQL_DIR = Path(__file__).resolve().parent / "sql"
ROW = "_row"  # the grid's row number (1, 2, …): what problems point at
NEW = "_new"  # a row added in the grid (not yet in the database)

# form → (family, sheet key)
FORMS = {"tasks": ("tasks", "task"), "events": ("projects", "project_event")}
TASK_EDITABLE = ("status", "progress", "progress_note", "evidence_url")
EVENT_EDITABLE = ("event_date", "note")


def form_sheet(form: str) -> Sheet:
    """The intake sheet a form writes."""
    family, key = FORMS[form]
    return load_families()[family].sheet(key)


def _query(name: str, scope: Scope | None = None) -> pd.DataFrame:
    params = require(scope).params() if scope is not None else {}
    return db.query(db.read_sql(SQL_DIR / name), params)


def task_rows(scope: Scope) -> pd.DataFrame:
    """The 督办 tasks the viewer may report on, with their current progress, numbered ``_row``."""
    df = _query("form_tasks.sql", require(scope))
    df["progress"] = df["progress"].astype("int64")
    df.insert(0, ROW, range(1, len(df) + 1))
    return df


def event_rows(scope: Scope) -> pd.DataFrame:
    """The milestones recorded for the viewer's projects, numbered ``_row``."""
    df = _query("form_project_events.sql", require(scope))
    df.insert(0, ROW, range(1, len(df) + 1))
    return df


def project_choices(scope: Scope) -> pd.DataFrame:
    """The projects a new milestone may belong to: project_id, project_name, county_name."""
    return _query("form_projects.sql", require(scope))


def stage_choices() -> pd.DataFrame:
    """The lifecycle stages in order: stage (code), label, seq."""
    return _query("form_project_stages.sql")


# ---------------------------------------------------------------- what was edited


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _number_text(value: object) -> str:
    text = _text(value)
    try:
        f = float(text)
    except ValueError:
        return text
    return str(int(f)) if f.is_integer() else text


def _cell(value: object) -> object:
    """A grid cell as the validation receives it: blank text is a blank cell."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame([{c: _cell(r.get(c)) for c in columns} for r in rows], columns=columns, dtype=object)
    df.index = pd.Index([int(r[ROW]) for r in rows], name=ROW)
    return df


def _numbered(rows: list[dict] | None) -> list[dict]:
    """The grid's rows, each with a row number (a row without one gets the next free number)."""
    out, used = [], {int(r[ROW]) for r in rows or [] if _is_int(r.get(ROW))}
    nxt = max(used, default=0)
    for r in rows or []:
        if not _is_int(r.get(ROW)):
            nxt += 1
            r = {**r, ROW: nxt}
        out.append(r)
    return out


def _is_int(value: Any) -> bool:
    try:
        return int(value) == float(value)
    except (TypeError, ValueError):
        return False


def edited_tasks(rows: list[dict] | None, scope: Scope) -> pd.DataFrame:
    """The grid's task rows whose status, progress, note or link differ from the current data,
    with the ``task`` sheet's columns (``title`` from the database, never from the grid)."""
    current = task_rows(scope).set_index("task_id")
    keep = []
    for r in _numbered(rows):
        tid = _number_text(r.get("task_id"))
        key = int(tid) if tid.isdigit() else None
        if key in current.index:
            old = current.loc[key]
            same = (_text(r.get("status")) == _text(old["status"])
                    and _number_text(r.get("progress")) == _number_text(old["progress"])
                    and _text(r.get("progress_note")) == _text(old["progress_note"])
                    and _text(r.get("evidence_url")) == _text(old["evidence_url"]))
            if same:
                continue
            r = {**r, "task_id": key, "title": old["title"]}
        else:
            r = {**r, "title": None}  # not one of the viewer's tasks: the validation says so
        keep.append(r)
    cols = [c.name for c in form_sheet("tasks").columns]
    return _frame(keep, cols)


def edited_events(rows: list[dict] | None, scope: Scope) -> pd.DataFrame:
    """The grid's milestone rows that are new (and not blank) or whose date or note differ
    from the current data, with the ``project_event`` sheet's columns."""
    current = event_rows(scope)
    known = {(r.project_id, r.stage): r for r in current.itertuples(index=False)}
    names = dict(zip(*[project_choices(scope)[c] for c in ("project_id", "project_name")], strict=True))
    keep = []
    for r in _numbered(rows):
        pid, stage = _text(r.get("project_id")), _text(r.get("stage"))
        old = None if r.get(NEW) else known.get((pid, stage))
        if old is not None:
            if (_text(r.get("event_date"))[:10] == _text(old.event_date)
                    and _text(r.get("note")) == _text(old.note)):
                continue
        elif not any(_text(r.get(c)) for c in ("project_id", "stage", "event_date", "note")):
            continue  # an added row left blank
        keep.append({**r, "project_id": pid or None, "stage": stage or None,
                     "event_date": _text(r.get("event_date"))[:10] or None, "project_name": names.get(pid)})
    cols = [c.name for c in form_sheet("events").columns]
    return _frame(keep, cols)


# ---------------------------------------------------------------- problems back to cells


def problem_cells(problems: list[Problem], sheet: Sheet) -> dict[int, list[str]]:
    """Grid row number → the columns (DB names) a problem points at; a problem about a whole
    row lists the row with no column."""
    by_header = {h: c.name for c in sheet.columns for h in c.headers}
    out: dict[int, list[str]] = {}
    for p in problems:
        if p.row is None:
            continue
        cols = out.setdefault(int(p.row), [])
        name = by_header.get(p.column or "")
        if name and name not in cols:
            cols.append(name)
    return out
