"""Checks across months and counties: completeness, month continuity and plausibility.

They look at a whole sheet (all chunks) and at the database's history, so they run once
per sheet after the row checks, on small per-county summaries.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from data.intake.codes import CodeLists, run
from data.intake.errors import CAP_PER_CHECK, Problem
from data.intake.spec import Sheet

# plausibility: a month-on-month change is unusual when its log ratio is further from the
# median of the last 14 changes than 4 × their MAD, than 1.25 × the largest of them (so a
# seasonal swing seen last year passes) and than a doubling or halving
MAD_FACTOR = 4.0
LARGEST_FACTOR = 1.25
FLOOR = float(np.log(2.0))
MIN_VOLUME = 30  # below this, counts jump by chance
HISTORY_MONTHS = 15
WINDOW = 14  # changes compared with: last year's Spring Festival swing is in it, January or February
MAX_NAMES = 20


def month_text(m) -> str:
    return pd.Timestamp(m).strftime("%Y-%m")


def _add_months(m: date, k: int) -> date:
    return (pd.Timestamp(m) + pd.DateOffset(months=k)).date()


def _names(lists: CodeLists, codes) -> str:
    codes = sorted(codes)
    text = "、".join(f"{lists.name(c)}（{c}）" for c in codes[:MAX_NAMES])
    return text + (f" 等 {len(codes)} 个" if len(codes) > MAX_NAMES else "")


def completeness(sheet: Sheet, present: pd.DataFrame, lists: CodeLists, counties: set[str]) -> list[Problem]:
    """Every county under the upload's region reports every month of the file, and every
    allowed value of a key column (热线's five 诉求类型)."""
    month, county = sheet.month_column, sheet.region_column
    out = []
    by_value = [c for c in sheet.keys if sheet.column(c).allowed]
    present = present.astype({county: str})
    for m, group in present.groupby(month, sort=True):
        missing = counties - set(group[county])
        if missing:
            out.append(Problem(sheet.title, None, None,
                               f"{month_text(m)} 缺少 {len(missing)} 个区县的数据：{_names(lists, missing)}"))
        for key in by_value:
            col = sheet.column(key)
            have = group.groupby(county)[key].agg(lambda v: set(v.astype(str)))
            for code, values in have.items():
                lack = [v for v in col.allowed if v not in values]
                if lack and code in counties:
                    out.append(Problem(sheet.title, None, col.header,
                                       f"{month_text(m)} {lists.name(code)}（{code}）缺少：{'、'.join(lack)}"))
    return out[:CAP_PER_CHECK]


def continuity(sheet: Sheet, months: set, lists: CodeLists) -> list[Problem]:
    """The file may not leave a month out between the database's latest month and its own."""
    latest = lists.latest.get(sheet.key) or lists.latest.get("calendar")
    if latest is None or not months:
        return []
    last = max(pd.Timestamp(m).date() for m in months)
    have = {pd.Timestamp(m).date() for m in months}
    gap = []
    m = _add_months(latest, 1)
    while m < last:
        if m not in have:
            gap.append(m)
        m = _add_months(m, 1)
    if not gap:
        return []
    header = sheet.column(sheet.month_column).header if sheet.month_column else None
    return [Problem(sheet.title, None, header,
                    f"数据库最新月份为 {month_text(latest)}，文件含 {month_text(last)}，"
                    f"缺少 {'、'.join(month_text(g) for g in gap)}；请先报送缺少的月份或一并报送")]


def _spread(window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's median change and the change from it that counts as unusual: 4 × MAD,
    at least a doubling, and beyond 1.25 × the largest seen (last year's Spring Festival)."""
    n = window.shape[0]
    enough = np.sum(~np.isnan(window), axis=1) >= 6 if window.shape[1] else np.zeros(n, dtype=bool)
    if not enough.any():
        return np.zeros(n), np.full(n, FLOOR)
    w = np.where(enough[:, None], window, 0.0)
    med = np.nanmedian(w, axis=1)
    dev = np.abs(w - med[:, None])
    limit = np.maximum(MAD_FACTOR * np.nanmedian(dev, axis=1), LARGEST_FACTOR * np.nanmax(dev, axis=1))
    return np.where(enough, med, 0.0), np.where(enough, np.maximum(limit, FLOOR), FLOOR)


def plausibility(sheet: Sheet, totals: pd.DataFrame, con, lists: CodeLists) -> list[Problem]:
    """Warnings for county totals that jump far beyond their usual month-on-month spread.

    ``totals``: month, county and the plausibility measures summed over the file's rows."""
    if totals.empty or not sheet.plausibility:
        return []
    month, county = sheet.month_column, sheet.region_column
    if month is None or county is None:  # only monthly sheets by region declare plausibility measures
        return []
    file_months = sorted(pd.Timestamp(m) for m in totals[month].unique())
    start = (file_months[0] - pd.DateOffset(months=HISTORY_MONTHS)).date()
    history = run(con, f"history_{sheet.key}", {
        "start": start, "end": (file_months[-1] + pd.DateOffset(months=1)).date(),
        "counties": sorted(totals[county].astype(str).unique()),
    })
    history[month] = pd.to_datetime(history[month])
    history = history[~history[month].isin(file_months)]  # the file replaces those months
    data = pd.concat([history, totals.assign(**{month: pd.to_datetime(totals[month])})], ignore_index=True)
    span = pd.date_range(data[month].min(), data[month].max(), freq="MS")
    out = []
    for measure in sheet.plausibility:
        grid = data.pivot_table(index=county, columns=month, values=measure, aggfunc="sum").reindex(columns=span)
        values = grid.to_numpy(dtype="float64")
        logs = np.log1p(np.clip(values, 0, None))
        change = logs[:, 1:] - logs[:, :-1]
        for m in file_months:
            j = span.get_loc(m)
            if j == 0:
                continue
            window = change[:, max(0, j - 1 - WINDOW):j - 1]
            med, limit = _spread(window)
            now = change[:, j - 1]
            before, after = values[:, j - 1], values[:, j]
            odd = (np.abs(now - med) > limit) & (np.maximum(before, after) >= MIN_VOLUME)
            odd &= ~np.isnan(now)
            header = sheet.column(measure).header
            for i in np.flatnonzero(odd):
                code = grid.index[i]
                pct = (after[i] - before[i]) / before[i] * 100 if before[i] else float("inf")
                out.append(Problem(
                    sheet.title, None, header,
                    f"{lists.name(code)}（{code}）{month_text(span[j - 1])} → {month_text(m)}：{before[i]:,.0f} → "
                    f"{after[i]:,.0f}（环比 {pct:+.0f}%），远超该区县近 14 个月的正常波动，请核实", "warning"))
    return out[:CAP_PER_CHECK]
