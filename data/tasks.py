"""The 督办 key tasks: the 12 tasks of 江西省2023年数字政府建设工作要点 (赣府厅字〔2023〕35号).

They were parsed once from the seed document with :func:`parse_work_plan` and are kept
in ``data/reference/tasks_jiangxi_2023.csv`` so that the app needs no seed at run time.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

REFERENCE_CSV = Path(__file__).resolve().parent / "reference" / "tasks_jiangxi_2023.csv"
SOURCE = "江西省2023年数字政府建设工作要点（赣府厅字〔2023〕35号）"
_PLAN_HEADING = "江西省2023年数字政府建设工作要点\n为深入"
_NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"]
_ITEM = re.compile(r"(十[一二]|[一二三四五六七八九十])、(.+?)(?=(?:十[一二]|[一二三四五六七八九十])、|$)")
_UNITS = re.compile(r"[（(]((?:牵头|责任)单位[:：][^)）]*)[)）]")


def _deadline(text: str, year: int) -> date | None:
    m = re.match(r"(\d{1,2})月底", text)
    if not m:
        return None  # 长期
    month = int(m.group(1))
    return (pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)).date()


def parse_work_plan(text: str, year: int = 2023) -> pd.DataFrame:
    """Parse the numbered tasks (title, lead units, deadline) out of the work plan text."""
    start = text.rfind(_PLAN_HEADING)
    if start < 0:
        raise ValueError("未在文本中找到《江西省2023年数字政府建设工作要点》正文")
    body = text[start:]
    end = body.find("篇六")
    body = (body if end < 0 else body[:end]).replace("\n", "")
    rows = []
    for m in _ITEM.finditer(body):
        numeral, content = m.groups()
        units = _UNITS.findall(content)
        if not units:
            continue
        clause = units[-1]
        lead = _field(r"(?:牵头单位|责任单位)[:：]([^;；。]*)", clause)
        deadline_text = _field(r"完成时限[:：](.+)$", clause).strip("。 ")
        rows.append(
            {
                "task_id": _NUMERALS.index(numeral) + 1,
                "title": content.split("。")[0],
                "summary": content.split("。")[1] if "。" in content else content,
                "lead_units": lead.replace(",", "、"),
                "deadline_text": deadline_text,
                "deadline": _deadline(deadline_text, year),
            }
        )
    return pd.DataFrame(rows)


def reference_tasks() -> pd.DataFrame:
    """The 12 tasks as committed in the reference CSV."""
    df = pd.read_csv(REFERENCE_CSV, dtype=str)
    df["task_id"] = df["task_id"].astype(int)
    df["deadline"] = pd.to_datetime(df["deadline"]).dt.date
    return df


def _field(pattern: str, clause: str) -> str:
    """One labelled field of a task's 责任单位 clause (the clause matched ``_UNITS``, so it has it)."""
    found = re.search(pattern, clause)
    if found is None:
        raise ValueError(f"任务条目缺少字段：{clause[:40]}")
    return found.group(1)
