"""数据管理 page pieces: templates and exports, the check report (problems or the preview of a
prepared change), the publish bar, the 填报 grids and the import history.

Data in, components out; no queries inside. The page passes the labels it needs (family and
sheet titles) so nothing here reads the specs or the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import dash_ag_grid as dag
import pandas as pd
from dash import dcc, html

from components.tables import LOCALE_TEXT
from metrics.format import DASH, fmt_value

COUNTS = (("added", "新增"), ("changed", "修改"), ("removed", "删除"))
OUTCOME_CLASS = {"已发布": "ok", "待发布": "pending", "校验中": "pending", "内容未变化": "same",
                 "已拒绝": "bad", "失败": "bad", "已放弃": "same"}
CONFIRM_LABEL = "我已核实以上提示"


# ---------------------------------------------------------------- messages


def create_alert(message: str | Iterable[str], *, alert_id: str | None = None) -> html.Div:
    """A Chinese error message (one line or several)."""
    lines = [message] if isinstance(message, str) else list(message)
    body = lines[0] if len(lines) == 1 else html.Ul([html.Li(x) for x in lines])
    return html.Div(body, className="error-banner data-alert", role="alert",
                    **({"id": alert_id} if alert_id else {}))


def create_notice(message: str, *, tone: str = "ok", notice_id: str | None = None) -> html.Div:
    """A one-line notice: ``ok`` (published), ``same`` (nothing changed) or ``info``."""
    return html.Div(message, className=f"data-notice data-notice--{tone}", **({"id": notice_id} if notice_id else {}))


def create_version_bar(info: Mapping[str, Any]) -> html.Div:
    """The version being served: number, as-of month and when it was published."""
    number = info.get("version")
    items = [html.Span(["当前数据版本 ", html.B(f"v{number}" if number is not None else DASH)],
                       className="data-version-number", id="data-version-number")]
    if info.get("as_of"):
        items.append(html.Span(f"数据截至 {info['as_of']}", className="data-version-meta"))
    if info.get("published_at"):
        items.append(html.Span(f"发布于 {info['published_at']}", className="data-version-meta"))
    items.append(html.Span("发布后各页面在下一次打开或刷新时显示新数据，无需重启", className="data-version-hint"))
    return html.Div(items, className="data-version")


# ---------------------------------------------------------------- templates and exports


def create_template_table(families: list[dict], *, export_hrefs: dict[str, str]) -> html.Table:
    """One row per family: its sheets, a link to the blank template and one to the export of
    the chosen month and region. ``families``: name, label, sheets (titles)."""
    head = html.Thead(html.Tr([html.Th(h) for h in ("数据类别", "包含工作表", "空白模板", "导出已发布数据")]))
    rows = []
    for f in families:
        name = f["name"]
        rows.append(html.Tr([
            html.Td(f["label"], className="data-col-family"),
            html.Td("、".join(f["sheets"]), className="data-col-sheets"),
            html.Td(html.A("下载模板", href=f"/data/template/{name}.xlsx", id=f"data-template-{name}",
                           className="data-link", download="")),
            html.Td(html.A("导出（按模板格式）", href=export_hrefs.get(name, ""), className="data-link",
                           id={"type": "data-export-link", "family": name}, download="")),
        ]))
    return html.Table([head, html.Tbody(rows)], className="data-table data-table--templates")


# ---------------------------------------------------------------- the check report


def create_problem_table(problems: list, *, title: str, table_id: str, tone: str = "error") -> html.Div:
    """Every problem (sheet, row, column, message) with its count; ``problems`` are
    :class:`data.intake.errors.Problem`; ``tone="warning"`` for the ones to confirm."""
    head = html.Thead(html.Tr([html.Th(h) for h in ("序号", "工作表", "行", "列", "问题")]))
    rows = [html.Tr([html.Td(i), html.Td(p.sheet or "（整个文件）"), html.Td(DASH if p.row is None else p.row),
                     html.Td(p.column or DASH), html.Td(p.message, className="data-col-message")])
            for i, p in enumerate(problems, start=1)]
    return html.Div([
        html.Div([html.B(title), html.Span(f"共 {len(problems)} {'条提示' if tone == 'warning' else '个问题'}",
                                           className="data-count")], className="data-report-head"),
        html.Div(html.Table([head, html.Tbody(rows)], className="data-table data-table--problems", id=table_id),
                 className="data-scroll"),
    ], className=f"data-problems data-problems--{tone}")


def summarise_diff(diff: list[dict], *, by: str, sheet_titles: dict[str, str]) -> list[dict]:
    """Rows added, changed and removed per sheet, month and region: counties rolled up to
    their city (``by="city"``) or kept (``by="county"``); a row without a county (a provincial
    task) is named by what it has, or 全省（未分地区）."""
    acc: dict[tuple, dict] = {}
    for d in diff:
        if by == "city" and d.get("city_name"):
            region = d["city_name"]
        else:
            region = d.get("county_name") or "全省（未分地区）"
        key = (d.get("table") or "", d.get("period") or "", region)
        row = acc.setdefault(key, {"sheet": sheet_titles.get(key[0], key[0]), "period": key[1] or "不分月份",
                                   "region": region, "added": 0, "changed": 0, "removed": 0})
        for k, _ in COUNTS:
            row[k] += int(d.get(k) or 0)
    return [acc[k] for k in sorted(acc)]


def create_diff_table(rows: list[dict], *, by: str) -> html.Div:
    """The rows of :func:`summarise_diff` as a table."""
    region_head = "设区市" if by == "city" else "县（市、区）"
    head = html.Thead(html.Tr([html.Th(h) for h in ("工作表", "月份", region_head, "新增", "修改", "删除")]))
    body = [html.Tr([html.Td(r["sheet"]), html.Td(r["period"]), html.Td(r["region"]),
                     *[html.Td(f"{r[k]:,}", className="data-num") for k, _ in COUNTS]]) for r in rows]
    return html.Div(html.Table([head, html.Tbody(body)], className="data-table data-table--diff", id="data-diff"),
                    className="data-scroll")


def create_kpi_moves(moves: list[dict]) -> html.Div:
    """The province-level KPIs that move, before → after, rounded by the house rule."""
    if not moves:
        return html.Div("本次变更不改变全省层面的指标数值", className="data-muted")
    head = html.Thead(html.Tr([html.Th(h) for h in ("指标", "统计期", "月份", "发布前", "发布后")]))
    body = [html.Tr([html.Td(m["name"]), html.Td(m["period_name"]), html.Td(m["month"]),
                     html.Td(fmt_value(m["before"], m["unit"]), className="data-num"),
                     html.Td(fmt_value(m["after"], m["unit"]), className="data-num data-after")])
            for m in moves]
    return html.Div(html.Table([head, html.Tbody(body)], className="data-table data-table--kpis", id="data-kpi-moves"),
                    className="data-scroll")


def create_preview(prepared, *, heading: str, by: str, sheet_titles: dict[str, str],
                   show_kpis: bool = True) -> html.Div:
    """What 发布 would change: totals, rows per month and region, the province KPIs that move
    (``show_kpis``: only for a viewer who may see the province) and the warnings to confirm.
    ``prepared`` is a :class:`data.intake.publish.Prepared`."""
    totals = prepared.totals()
    stats = [html.Div([html.Span(label, className="data-stat-name"), html.B(f"{totals[k]:,}"), " 行"],
                      className=f"data-stat data-stat--{k}", id=f"data-total-{k}") for k, label in COUNTS]
    base = f"v{prepared.base_version}" if prepared.base_version is not None else DASH
    parts = [
        html.Div([html.B(heading),
                  html.Span(f"发布后为版本 v{prepared.version}（当前 {base}）", className="data-muted")],
                 className="data-report-head"),
        html.Div(stats, className="data-stats"),
        html.H4("变化明细（按月份和地区）"),
        create_diff_table(summarise_diff(prepared.diff, by=by, sheet_titles=sheet_titles), by=by),
        html.H4("发布后变化的全省指标"),
        create_kpi_moves(prepared.kpi_moves) if show_kpis else
        html.Div("全省指标的变化仅向省级用户显示；发布后可在各页面查看本地区的指标", className="data-muted"),
    ]
    if prepared.warnings:
        parts += [html.H4(f"需要核实的提示（{len(prepared.warnings)} 条）", className="data-warn-head"),
                  html.Ul([html.Li(w) for w in prepared.warnings], className="data-warnings", id="data-warnings")]
    return html.Div(parts, className="data-preview")


def create_publish_bar(src: str) -> html.Div:
    """The confirmation, 发布 and 取消 under a report; hidden until a change is prepared
    (the page sets the class: ``data-actions--open``, plus ``data-actions--confirm`` when
    warnings must be confirmed first)."""
    return html.Div([
        dcc.Checklist(id=f"data-{src}-confirm", options=[{"label": CONFIRM_LABEL, "value": "ok"}], value=[],
                      className="data-confirm"),
        html.Button("发布", id=f"data-{src}-publish", className="data-button data-button--primary", n_clicks=0),
        html.Button("取消", id=f"data-{src}-cancel", className="data-button", n_clicks=0),
    ], id=f"data-{src}-actions", className="data-actions")


# ---------------------------------------------------------------- history


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else (str(value) if value else DASH)


def create_history_table(history: list[dict], *, current: int | None, rollbackable: set[int],
                         family_labels: dict[str, str]) -> html.Table:
    """The import history, newest first; a published version still kept (and not current) gets
    a 回滚 button on its newest row, the current version is marked."""
    head = html.Thead(html.Tr([html.Th(h) for h in ("时间", "方式", "文件或来源", "数据类别", "月份", "行数",
                                                    "报送人", "结果", "版本", "操作")]))
    offered: set[int] = set()
    rows = []
    for r in history:
        v = r.get("version")
        action: object = ""
        if v is not None and v not in offered and r.get("outcome") == "已发布":
            if v == current:
                offered.add(v)
                action = html.Span("当前版本", className="data-current")
            elif v in rollbackable:
                offered.add(v)
                action = html.Button(f"回滚至 v{v}", id={"type": "data-rollback", "version": v}, n_clicks=0,
                                     className="data-button data-button--small")
        families = "、".join(family_labels.get(f, f) for f in (r.get("family") or "").split(",") if f)
        source = r.get("source_name") or ""
        kind = r.get("kind") or ""
        if source.startswith(f"{kind}："):  # a form or the demo: 「填报：tasks」 names its families by code
            source = f"{kind}：" + "、".join(family_labels.get(f, f) for f in source[len(kind) + 1:].split("、"))
        months = (r.get("months") or "").split(",")
        months_text = DASH if not months[0] else (months[0] if len(months) == 1 else f"{months[0]} 至 {months[-1]}")
        outcome = r.get("outcome") or ""
        rows.append(html.Tr([
            html.Td(_when(r.get("started_at")), className="data-nowrap"), html.Td(r.get("kind") or ""),
            html.Td(source, className="data-col-file"), html.Td(families or DASH, className="data-col-families"),
            html.Td(months_text, className="data-nowrap"),
            html.Td(f"{int(r.get('rows') or 0):,}", className="data-num"), html.Td(r.get("actor") or ""),
            html.Td(html.Span(outcome, className=f"data-outcome data-outcome--{OUTCOME_CLASS.get(outcome, 'same')}")),
            html.Td(f"v{v}" if v is not None else DASH), html.Td(action),
        ], id=f"data-history-{r['import_id']}"))
    return html.Table([head, html.Tbody(rows)], className="data-table data-table--history", id="data-history-table")


# ---------------------------------------------------------------- 填报 grids

_ERROR_RULE = "params.data._errors != null && params.data._errors.includes('{col}')"
_EDITED_RULE = ("params.data._orig != null && (params.value == null ? '' : '' + params.value)"
                " != (params.data._orig.{col} == null ? '' : '' + params.data._orig.{col})")


def _editable(field: str, header: str, **extra) -> dict[str, Any]:
    return {"field": field, "headerName": header, "editable": True, "cellClass": "data-cell--editable",
            "cellClassRules": {"data-cell--error": _ERROR_RULE.format(col=field),
                               "data-cell--edited": _EDITED_RULE.format(col=field)}, **extra}


def _grid(grid_id: str, rows: list[dict], columns: list[dict], *, height: int) -> dag.AgGrid:
    return dag.AgGrid(
        id=grid_id, rowData=rows, columnDefs=columns,
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 70,
                       "wrapText": True, "autoHeight": True},
        dashGridOptions={"localeText": LOCALE_TEXT, "animateRows": False, "singleClickEdit": True,
                         "stopEditingWhenCellsLoseFocus": True, "pagination": len(rows) > 50,
                         "paginationPageSize": 50, "getRowId": {"function": "params.data._row + ''"},
                         "rowClassRules": {"data-row--error": "params.data._errors != null"}},
        columnSize="responsiveSizeToFit", style={"height": f"{height}px"}, className="ag-theme-quartz",
    )


def _row_column() -> dict[str, Any]:
    return {"field": "_row", "headerName": "行", "width": 64, "maxWidth": 72, "pinned": "left", "editable": False,
            "filter": False}


def task_grid_rows(df: pd.DataFrame) -> list[dict]:
    """The tasks as grid rows, each remembering its loaded values (to mark edited cells)."""
    out = []
    for r in df.to_dict("records"):
        r = {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in r.items()}
        r["_orig"] = {c: r.get(c) for c in ("status", "progress", "progress_note", "evidence_url")}
        out.append(r)
    return out


def create_task_grid(rows: list[dict], *, statuses: list[str]) -> dag.AgGrid:
    """督办任务进展: title read-only; status, completion %, note and evidence link editable."""
    columns = [
        _row_column(),
        {"field": "task_id", "headerName": "编号", "width": 72, "maxWidth": 80},
        {"field": "title", "headerName": "任务名称", "flex": 3, "minWidth": 200},
        {"field": "lead_units", "headerName": "牵头单位", "flex": 2, "minWidth": 140},
        {"field": "deadline_text", "headerName": "完成时限", "width": 96, "maxWidth": 110},
        _editable("status", "进展状态", width=112, maxWidth=130, cellEditor="agSelectCellEditor",
                  cellEditorParams={"values": statuses}),
        _editable("progress", "完成进度（%）", width=136, maxWidth=150, type="rightAligned",
                  cellEditor="agNumberCellEditor", cellDataType="number"),
        _editable("progress_note", "进展说明", flex=4, minWidth=220, cellEditor="agLargeTextCellEditor",
                  cellEditorPopup=True, cellEditorParams={"maxLength": 2000, "rows": 6, "cols": 60}),
        _editable("evidence_url", "佐证材料链接", flex=2, minWidth=160),
    ]
    return _grid("data-tasks-grid", rows, columns, height=520)


def event_grid_rows(df: pd.DataFrame) -> list[dict]:
    """The recorded milestones as grid rows (their project and stage are fixed). The grid shows
    names from the codes; the names in the row are what the column filters search."""
    out = []
    cols = ["_row", "project_id", "project_name", "county_name", "stage", "event_date", "note"]
    for r in df[cols].to_dict("records"):
        r = {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in r.items()}
        r["_orig"] = {c: r.get(c) for c in ("event_date", "note")}
        out.append(r)
    return out


def new_event_row(row_number: int) -> dict[str, Any]:
    """A blank milestone row added by 新增一行."""
    return {"_row": row_number, "_new": True, "project_id": None, "stage": None, "event_date": None, "note": None}


def create_event_grid(rows: list[dict], *, projects: pd.DataFrame, stages: pd.DataFrame) -> dag.AgGrid:
    """项目里程碑: a recorded milestone's date and note are editable; an added row also takes its
    project and stage (Chinese labels in a dropdown, codes underneath)."""
    names = dict(zip(projects["project_id"], projects["project_name"], strict=True))
    counties = dict(zip(projects["project_id"], projects["county_name"], strict=True))
    labels = dict(zip(stages["stage"], stages["label"], strict=True))
    new_only = {"function": "params.data._new === true"}
    key_rules = {"data-cell--error": _ERROR_RULE, "data-cell--new": "params.data._new === true"}
    columns = [
        _row_column(),
        {"field": "project_id", "colId": "project_id", "headerName": "项目编号", "width": 120, "maxWidth": 140,
         "editable": new_only, "cellEditor": "agSelectCellEditor",
         "cellEditorParams": {"values": list(names)},
         "cellClassRules": {k: v.format(col="project_id") for k, v in key_rules.items()}},
        {"field": "project_id", "colId": "project_name", "headerName": "项目名称", "refData": names, "flex": 3,
         "minWidth": 220, "editable": new_only, "cellEditor": "agSelectCellEditor",
         "filterValueGetter": {"function": "params.data.project_name"},
         "cellEditorParams": {"values": list(names)},
         "cellClassRules": {"data-cell--new": "params.data._new === true"}},
        {"field": "project_id", "colId": "county", "headerName": "建设地点", "refData": counties, "width": 110,
         "maxWidth": 130, "editable": False, "filterValueGetter": {"function": "params.data.county_name"}},
        {"field": "stage", "headerName": "阶段", "refData": labels, "width": 120, "maxWidth": 140,
         "editable": new_only, "cellEditor": "agSelectCellEditor", "cellEditorParams": {"values": list(labels)},
         "cellClassRules": {k: v.format(col="stage") for k, v in key_rules.items()}},
        _editable("event_date", "发生日期", width=132, maxWidth=150, cellEditor="agTextCellEditor",
                  cellDataType=False, headerTooltip="如 2026-10-15，不得晚于今天"),
        _editable("note", "备注", flex=3, minWidth=200),
    ]
    return _grid("data-events-grid", rows, columns, height=520)


def create_form_problems(problems: list, *, title: str, list_id: str) -> html.Div:
    """The problems of a 填报 submission (their rows are highlighted in the grid)."""
    return html.Div([
        html.Div([html.B(title), html.Span(f"共 {len(problems)} 个问题", className="data-count")],
                 className="data-report-head"),
        html.Ul([html.Li(str(p)) for p in problems], className="data-form-problems", id=list_id),
    ], className="data-problems")
