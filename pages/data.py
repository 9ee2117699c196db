"""数据管理 · real data in: templates and exports, uploads checked and previewed before 发布,
the two 填报 forms (督办任务进展, 项目里程碑), and the import history with 回滚.

Every change follows the intake's one path: check (nothing written) → preview of the staged
version → 发布 (a new database version; the other pages read it on their next request).
The uploader is the logged-in viewer (``web.session``); the scope and the name are derived on
the server, never from callback inputs. Only the token of a prepared change is kept in the browser.

The checks (an upload, a 填报 submission) and 发布 run as background jobs (``web/jobs.py``: the
embedded job processes of ``scripts/start.sh``, Celery's intake queue in the production mode), at
a low CPU priority: the page polls them like the briefing export and shows 「正在校验…」/「正在发布…」,
then the outcome. When a job is submitted the server checks that the viewer may use this page and
moves an uploaded file into the staging directory (shared by all nodes when there are several);
the job runs as the viewer the request carried (signed), never as anyone the browser names.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from contextlib import contextmanager
from typing import TypedDict

import dash
from dash import ALL, Input, Output, State, callback, dcc, html, no_update

from components.data_views import (
    create_alert,
    create_event_grid,
    create_form_problems,
    create_history_table,
    create_notice,
    create_preview,
    create_problem_table,
    create_publish_bar,
    create_task_grid,
    create_template_table,
    create_version_bar,
    event_grid_rows,
    new_event_row,
    task_grid_rows,
)
from components.page import page_notice
from components.shell import month_options, region_options
from data import db, opstore, versions
from data.intake import forms, service
from data.intake import publish as pub
from data.intake.errors import IntakeError
from data.intake.read import DEFAULT_LIMITS
from data.intake.spec import load_families
from data.scope import Scope, ScopeError
from metrics.regions import UnknownRegionError, as_of, get_region, region_tree
from web.jobs import INTAKE_QUEUE, exclusive, intake_nice, job_options
from web.session import viewer_name, viewer_scope

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/data", name="数据管理", title="数据管理 · 领导驾驶舱", order=8)

TITLE = "数据管理"
SOURCES = ("upload", "tasks", "events")  # where a change comes from: a file, or one of the two forms
FORM_SOURCES = {"tasks": "data-tasks-grid", "events": "data-events-grid"}
OPEN, CONFIRM = "data-actions data-actions--open", "data-actions data-actions--open data-actions--confirm"
CLOSED = "data-actions"
HISTORY_ROWS = 50
STAGED = "staged_upload"  # what an upload's contents become once the server has staged the file
CHECKING, PUBLISHING = "正在校验，请稍候…", "正在发布，请稍候…"
FAILED = "处理失败：服务器内部错误，未发布任何更改。请稍后重试，或联系管理员查看日志"
BUSY = {"已有导出在进行中，请稍候": "已有后台任务（导出、校验或发布）在进行中，请待其完成后再试",
        "当前导出任务较多，请稍候再试": "当前后台任务较多，请稍候再试"}


# ---------------------------------------------------------------- what the page reads


def _store() -> versions.Store:
    return versions.store_for(db.pointer_path())


@contextmanager
def _oncurrent_version():
    """Read the version the pointer names now (after a publish in this request, the new one)."""
    path = versions.current(_store())
    if path is None:
        yield
        return
    with db.reading(path):
        yield


def _family_labels() -> dict[str, str]:
    return {name: f.label for name, f in load_families().items()}


def _sheet_titles() -> dict[str, str]:
    return {s.key: s.title for f in load_families().values() for s in f.sheets}


class VersionInfo(TypedDict):
    """The data version on line: its number, the month it reaches and when it was published."""

    version: int | None
    as_of: str
    published_at: str | None


def _version_info(history: list[dict] | None = None) -> VersionInfo:
    current = versions.current_number(_store())
    history = opstore.history(limit=HISTORY_ROWS) if history is None else history
    published = next((r for r in history if r.get("version") == current and r.get("outcome") == "已发布"), None)
    when = published and (published.get("finished_at") or published.get("started_at"))
    with _oncurrent_version():
        last = as_of()[1]
    return {"version": current, "as_of": f"{last.year}年{last.month}月",
            "published_at": when.strftime("%Y-%m-%d %H:%M") if when else None}


def _history_view() -> html.Table:
    history = opstore.history(limit=HISTORY_ROWS)
    return create_history_table(history, current=versions.current_number(_store()),
                                rollbackable=set(pub.available_versions()), family_labels=_family_labels())


def _detail_level(scope: Scope) -> str:
    """Counties roll up to their city for a province viewer; others see their counties."""
    if len(scope.regions) == 1 and get_region(scope.regions[0], scope=scope).level == "province":
        return "city"
    return "county"


def _preview(prepared: pub.Prepared, heading: str, scope: Scope) -> html.Div:
    # the KPI moves are the province's figures: shown to a viewer who may see the province
    level = _detail_level(scope)
    return create_preview(prepared, heading=heading, by=level, sheet_titles=_sheet_titles(), show_kpis=level == "city")


def _problems_text(exc: Exception) -> list[str]:
    problems = getattr(exc, "problems", None)
    return [str(p) for p in problems] if problems else [str(exc)]


# ---------------------------------------------------------------- layout


def _section(title: str, body: list, section_id: str, hint: str | None = None) -> html.Section:
    head = [html.H3(title)] + ([html.Span(hint, className="data-hint")] if hint else [])
    return html.Section([html.Div(head, className="panel-head data-head"), *body], className="panel data-panel",
                        id=section_id)


def _report_area(src: str) -> list:
    return [dcc.Store(id=f"data-{src}-token"),
            html.Div(id=f"data-{src}-job", className="data-job-status", role="status"),
            html.Div(id=f"data-{src}-report", className="data-report"),
            create_publish_bar(src), html.Div(id=f"data-{src}-outcome", className="data-outcome-area")]


@page_notice(TITLE, "data")  # a missing database or a viewer's error becomes the page's notice
def layout(**_ignored):
    """The page: fresh data on every visit (a publish elsewhere shows at once)."""
    scope = viewer_scope()
    regions = region_tree(scope=scope)
    first, last = as_of()
    history = opstore.history(limit=HISTORY_ROWS)
    info = _version_info(history)
    tasks_df, events_df = forms.task_rows(scope), forms.event_rows(scope)
    projects, stages = forms.project_choices(scope), forms.stage_choices()
    families = [{"name": name, "label": f.label, "sheets": [s.title for s in f.sheets]}
                for name, f in load_families().items()]
    month = last.strftime("%Y-%m")
    home = scope.regions[0]
    statuses = list(forms.form_sheet("tasks").column("status").allowed)
    max_mb = DEFAULT_LIMITS.max_bytes / 2**20

    templates = _section("模板下载与数据导出", [
        html.Div([
            html.Label(["导出月份", dcc.Dropdown(id="data-export-month", options=month_options(first, last),
                                             value=month, clearable=False, searchable=False,
                                             className="data-select-month")]),
            html.Label(["导出地区", dcc.Dropdown(id="data-export-region", options=region_options(regions), value=home,
                                             clearable=False, className="data-select-region")]),
        ], className="data-controls"),
        create_template_table(families, export_hrefs={f["name"]: export_href(f["name"], month, home)
                                                      for f in families}),
    ], "data-templates", hint="按模板填写后上传；导出的已发布数据可直接修改后重新上传")

    upload = _section("上传导入", [
        html.Div([
            html.Label(["数据类别", dcc.Dropdown(id="data-upload-family", placeholder="自动识别（按工作表和表头判断）",
                                             options=[{"label": f["label"], "value": f["name"]} for f in families],
                                             className="data-select-family")]),
            html.Label(["报送地区", dcc.Dropdown(id="data-upload-region", options=region_options(regions), value=home,
                                             clearable=False, className="data-select-region")]),
        ], className="data-controls"),
        dcc.Upload(html.Div(["将 .xlsx 或 .csv 文件拖到此处，或 ", html.B("点击选择文件"),
                             html.Span(f"（单个文件不超过 {max_mb:.0f} MB；上传后先校验和预览，确认后才发布）",
                                       className="data-hint")]),
                   id="data-upload", accept=".xlsx,.csv", max_size=DEFAULT_LIMITS.max_bytes, multiple=False,
                   className="data-drop", className_active="data-drop data-drop--active"),
        dcc.Loading(_report_area("upload"), type="dot", parent_className="data-loading", delay_show=300),
    ], "data-upload-panel")

    task_form = _section("填报 · 督办任务进展", [
        html.Div("双击或单击单元格修改进展状态、完成进度、进展说明和佐证材料链接（任务名称只读）；修改过的单元格以黄色标出。",
                 className="data-hint"),
        create_task_grid(task_grid_rows(tasks_df), statuses=statuses),
        html.Div(html.Button("提交校验", id="data-tasks-submit", className="data-button data-button--primary",
                             n_clicks=0), className="data-form-buttons"),
        dcc.Loading(_report_area("tasks"), type="dot", parent_className="data-loading", delay_show=300),
    ], "data-tasks-panel")

    event_form = _section("填报 · 项目里程碑", [
        html.Div("已登记的里程碑可修改发生日期和备注；新增一行可选择项目和阶段（同一项目同一阶段以最后一次填报为准）。",
                 className="data-hint"),
        create_event_grid(event_grid_rows(events_df), projects=projects, stages=stages),
        html.Div([html.Button("新增一行", id="data-events-add", className="data-button", n_clicks=0),
                  html.Button("提交校验", id="data-events-submit", className="data-button data-button--primary",
                              n_clicks=0)], className="data-form-buttons"),
        dcc.Loading(_report_area("events"), type="dot", parent_className="data-loading", delay_show=300),
    ], "data-events-panel")

    history_panel = _section("导入记录", [
        dcc.Store(id="data-rollback-pending"),
        html.Div([html.Span(id="data-rollback-question"),
                  html.Button("确认回滚", id="data-rollback-confirm", className="data-button data-button--danger",
                              n_clicks=0),
                  html.Button("取消", id="data-rollback-cancel", className="data-button", n_clicks=0)],
                 id="data-rollback-bar", className="data-actions"),
        html.Div(id="data-rollback-outcome", className="data-outcome-area"),
        html.Div(create_history_table(history, current=info["version"], rollbackable=set(pub.available_versions()),
                                      family_labels=_family_labels()),
                 id="data-history", className="data-scroll data-scroll--history"),
    ], "data-history-panel", hint=f"最近 {HISTORY_ROWS} 次；回滚只切换当前版本，之后的版本仍保留")

    return html.Div([
        html.Div([html.H2(TITLE), html.Span(f"报送人：{viewer_name()}", className="page-sub")], className="page-head"),
        html.Div(create_version_bar(info), id="data-version"),
        html.Div([templates, upload], className="data-row"),
        task_form,
        event_form,
        history_panel,
    ], className="page data-page")


def export_href(family: str, month: str | None, region: str | None) -> str:
    """The export link of ``family`` for a month and region (the route checks them)."""
    from urllib.parse import urlencode

    params = {k: v for k, v in {"month": month, "region": region}.items() if v}
    return f"/data/export/{family}.xlsx" + (f"?{urlencode(params)}" if params else "")


# ---------------------------------------------------------------- callbacks: templates


@callback(
    Output({"type": "data-export-link", "family": ALL}, "href"),
    Input("data-export-month", "value"),
    Input("data-export-region", "value"),
    State({"type": "data-export-link", "family": ALL}, "id"),
    prevent_initial_call=True,
)
def update_export_links(month, region, ids):
    """The export links follow the chosen month and region."""
    return [export_href(i["family"], month, region) for i in ids]


# ---------------------------------------------------------------- a check's outcome


class Checked:
    """What a check (upload or 填报 提交) shows under its source."""

    def __init__(self, report=None, token: str | None = None, actions: str = CLOSED, outcome=None):
        # (a plain class: Dash executes page modules outside sys.modules, where @dataclass fails)
        self.report, self.token, self.actions, self.outcome = report, token, actions, outcome

    def outputs(self) -> tuple:
        # report, token, bar class, confirmation (unticked), 发布 disabled, outcome
        return (self.report, self.token, self.actions, [], self.actions == CONFIRM, self.outcome)


def _pending(prepared: pub.Prepared, heading: str, scope: Scope) -> Checked:
    return Checked(report=_preview(prepared, heading, scope), token=prepared.token,
                   actions=CONFIRM if prepared.warnings else OPEN)


def _drop_previous(token: str | None, actor: str) -> None:
    """A new check replaces the viewer's previous, unpublished one."""
    if not token:
        return
    try:
        if pub.load_prepared(token).actor == actor:
            pub.discard(token)
    except IntakeError:
        pass  # already gone (published, cancelled or expired)


def _decode(contents) -> bytes:
    if isinstance(contents, dict) and STAGED in contents:  # put there by _stage_upload, on the server
        return service.take_upload(str(contents[STAGED]))
    try:
        _, payload = contents.split(",", 1)
        return base64.b64decode(payload, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise IntakeError("无法读取上传的文件内容，请重新选择文件") from exc


def check_file(contents, filename, family, region, previous_token) -> Checked:
    """Read, validate and prepare an uploaded file for the viewer; nothing is published."""
    scope, actor = viewer_scope(), viewer_name()
    try:
        data = _decode(contents)
        families = load_families()
        if family is not None and family not in families:
            raise IntakeError(f"未知的数据类别：{family}")
        if region:
            region = get_region(str(region), scope=scope).code
        _drop_previous(previous_token, actor)
        result = service.check_upload(data, filename or "", scope=scope, actor=actor, region=region or None,
                                      family=family)
    except (IntakeError, ScopeError, UnknownRegionError) as exc:
        return Checked(outcome=create_alert(_problems_text(exc), alert_id="data-upload-alert"))
    name = filename or "（无文件名）"
    if result.errors:
        report = [create_problem_table(result.errors, title=f"校验未通过：{name}，未发布。请按下表修改后重新上传。",
                                       table_id="data-upload-problems")]
        if result.warnings:
            report.append(create_problem_table(result.warnings, title="另有以下提示（修改错误时请一并核实）",
                                               table_id="data-upload-warnings", tone="warning"))
        return Checked(report=html.Div(report))
    if result.unchanged:
        return Checked(report=create_notice(service.UNCHANGED, tone="same", notice_id="data-upload-unchanged"))
    label = families[result.family].label if result.family in families else result.family
    months = "、".join(result.months) or "不分月份"
    heading = f"校验通过：{name}（{label}），共 {result.rows:,} 行，月份 {months}"
    return _pending(result.prepared, heading, scope)


def _outputs(src: str, with_grid: bool = False) -> list:
    out = [Output(f"data-{src}-report", "children", allow_duplicate=True),
           Output(f"data-{src}-token", "data", allow_duplicate=True),
           Output(f"data-{src}-actions", "className", allow_duplicate=True),
           Output(f"data-{src}-confirm", "value", allow_duplicate=True),
           Output(f"data-{src}-publish", "disabled", allow_duplicate=True),
           Output(f"data-{src}-outcome", "children", allow_duplicate=True),
           Output("data-history", "children", allow_duplicate=True)]
    if with_grid:
        out.append(Output(FORM_SOURCES[src], "rowData", allow_duplicate=True))
    return out


# ---------------------------------------------------------------- the jobs: submitted, run, answered


def may_submit() -> None:
    """At submission (in the request): only a viewer who may open 数据管理 starts its jobs; anyone
    else gets 403 and an audit 拒绝 row (the login guard refuses them first; this is the job's own
    check, whatever reaches it)."""
    from werkzeug.exceptions import Forbidden

    from data import audit
    from web.session import current_viewer

    viewer = current_viewer()
    may = getattr(viewer, "may_open", None)
    if viewer is not None and not getattr(viewer, "is_device", False) and may is not None and may("/data"):
        return
    if viewer is not None:
        audit.record("拒绝", actor=viewer.actor, role=getattr(viewer, "role", None) or viewer.kind, outcome="拒绝",
                     target="数据管理后台任务", detail={"reason": "角色无权访问「数据管理」"})
    raise Forbidden("无权提交数据管理任务（校验或发布）")


def _checked_submit(args: list) -> list:
    may_submit()
    return args


def _stage_upload(args: list) -> list:
    """The upload's file goes to the staging directory, not into the job's message (its first
    argument becomes a reference only the server makes; anything else the browser sends is dropped)."""
    may_submit()
    contents = args[0]
    args[0] = None
    if isinstance(contents, str) and contents:
        try:
            args[0] = {STAGED: service.stage_upload(_decode(contents))}
        except IntakeError:
            args[0] = contents  # not a file: the job says so, in Chinese
    return args


def _safe(failed):
    """The job's outputs whatever happens: ``failed(message)`` on an unexpected error (logged), never a 5xx."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception:  # noqa: BLE001 — said to the clerk in Chinese; the trace goes to the log
                log.exception("数据管理后台任务失败：%s", fn.__name__)
                return failed(FAILED)

        return run

    return wrap


def _busy(message: str) -> str:
    return BUSY.get(message, message)


def _job(submit):
    return job_options(queue=INTAKE_QUEUE, nice=intake_nice, submit=submit)


def _check_failed(src: str, n: int):
    def failed(message: str) -> tuple:
        alert = create_alert(_busy(message), alert_id=f"data-{src}-alert")
        return (*Checked(outcome=alert).outputs(), no_update, *([no_update] * n))

    return failed


@callback(
    *_outputs("upload"),
    Output("data-upload", "contents"),
    Input("data-upload", "contents"),
    State("data-upload", "filename"),
    State("data-upload-family", "value"),
    State("data-upload-region", "value"),
    State("data-upload-token", "data"),
    background=True,
    prevent_initial_call=True,
    running=[(Output("data-upload-job", "children"), CHECKING, None),
             (Output("data-upload", "disabled"), True, False)],
)
@exclusive(busy=_check_failed("upload", 1))
@_job(_stage_upload)
@_safe(_check_failed("upload", 1))
def on_upload(contents, filename, family, region, previous_token):
    """An uploaded file: its problems, 内容未变化, or the preview of what 发布 would change."""
    if not contents:
        return (no_update,) * 8
    checked = check_file(contents, filename, family, region, previous_token)
    # the file is not kept in the browser: choosing the same file again checks it again
    return (*checked.outputs(), _history_view(), None)


# ---------------------------------------------------------------- 填报 forms


def _form_rows(rows: list[dict] | None, marks: dict[int, list[str]] | None = None) -> list[dict]:
    """The grid's rows with the problem marks of a submission (none: cleared)."""
    out = []
    for r in rows or []:
        r = {k: v for k, v in r.items() if k != "_errors"}
        try:
            number = int(r.get(forms.ROW))
        except (TypeError, ValueError):
            number = None
        if marks and number in marks:
            r["_errors"] = marks[number]
        out.append(r)
    return out


def submit_form(src: str, rows: list[dict] | None, previous_token: str | None) -> tuple[Checked, list[dict]]:
    """Validate and prepare the edited rows of a 填报 grid; problems are marked on their rows."""
    scope, actor = viewer_scope(), viewer_name()
    family, key = forms.FORMS[src]
    sheet = forms.form_sheet(src)
    edited = forms.edited_tasks(rows, scope) if src == "tasks" else forms.edited_events(rows, scope)
    if edited.empty:
        return Checked(report=create_notice("没有修改，无需提交", tone="same", notice_id=f"data-{src}-nothing")), \
            _form_rows(rows)
    _drop_previous(previous_token, actor)
    try:
        prepared = pub.prepare_frames({family: {key: edited}}, actor=actor, kind="填报", scope=scope)
    except (IntakeError, ScopeError) as exc:
        problems = getattr(exc, "problems", None)
        if not problems:
            return Checked(outcome=create_alert(_problems_text(exc), alert_id=f"data-{src}-alert")), _form_rows(rows)
        marks = forms.problem_cells(problems, sheet)
        report = create_form_problems(problems, title=f"{sheet.title}未通过校验，未发布：请修改标红的行后重新提交",
                                      list_id=f"data-{src}-problems")
        return Checked(report=report), _form_rows(rows, marks)
    if prepared.unchanged:
        pub.discard(prepared.token)
        return Checked(report=create_notice(service.UNCHANGED, tone="same", notice_id=f"data-{src}-unchanged")), \
            _form_rows(rows)
    heading = f"校验通过：{sheet.title}，共 {len(edited):,} 行修改"
    return _pending(prepared, heading, scope), _form_rows(rows)


@callback(
    *_outputs("tasks", with_grid=True),
    Input("data-tasks-submit", "n_clicks"),
    State("data-tasks-grid", "rowData"),
    State("data-tasks-token", "data"),
    background=True,
    prevent_initial_call=True,
    running=[(Output("data-tasks-job", "children"), CHECKING, None),
             (Output("data-tasks-submit", "disabled"), True, False)],
)
@exclusive(busy=_check_failed("tasks", 1))
@_job(_checked_submit)
@_safe(_check_failed("tasks", 1))
def on_submit_tasks(n_clicks, rows, previous_token):
    """提交 of the 督办任务进展 grid."""
    if not n_clicks:
        return (no_update,) * 8
    checked, rows = submit_form("tasks", rows, previous_token)
    return (*checked.outputs(), _history_view(), rows)


@callback(
    *_outputs("events", with_grid=True),
    Input("data-events-submit", "n_clicks"),
    State("data-events-grid", "rowData"),
    State("data-events-token", "data"),
    background=True,
    prevent_initial_call=True,
    running=[(Output("data-events-job", "children"), CHECKING, None),
             (Output("data-events-submit", "disabled"), True, False)],
)
@exclusive(busy=_check_failed("events", 1))
@_job(_checked_submit)
@_safe(_check_failed("events", 1))
def on_submit_events(n_clicks, rows, previous_token):
    """提交 of the 项目里程碑 grid."""
    if not n_clicks:
        return (no_update,) * 8
    checked, rows = submit_form("events", rows, previous_token)
    return (*checked.outputs(), _history_view(), rows)


@callback(
    Output("data-events-grid", "rowData", allow_duplicate=True),
    Input("data-events-add", "n_clicks"),
    State("data-events-grid", "rowData"),
    prevent_initial_call=True,
)
def add_event_row(n_clicks, rows):
    """新增一行: a blank milestone row at the top of the grid."""
    if not n_clicks:
        return no_update
    numbers = [int(r[forms.ROW]) for r in rows or [] if str(r.get(forms.ROW, "")).isdigit()]
    return [new_event_row(max(numbers, default=0) + 1), *(rows or [])]


# ---------------------------------------------------------------- 发布 and 取消


def _reload_grid(src: str) -> list[dict]:
    scope = viewer_scope()
    with _oncurrent_version():
        return task_grid_rows(forms.task_rows(scope)) if src == "tasks" else event_grid_rows(forms.event_rows(scope))


def _still_pending(token: str, actor: str) -> bool:
    try:
        return pub.load_prepared(token).actor == actor
    except IntakeError:
        return False


def publish_change(src: str, n_clicks, token, confirmed) -> tuple:
    """发布 the prepared change behind ``token`` (the viewer's own; warnings confirmed).

    Returns (bar class, token, outcome, published): a refusal keeps a change that may still
    be published (unconfirmed warnings), and drops one that may not (someone else's, expired,
    or overtaken by another publish)."""
    actor = viewer_name()
    if not n_clicks:
        return no_update, no_update, no_update, False
    if not token:
        alert = create_alert("没有待发布的变更：请先上传文件或提交填报", alert_id=f"data-{src}-alert")
        return CLOSED, None, alert, False
    try:
        done = service.confirm_and_publish(str(token), actor=actor, warnings_confirmed=bool(confirmed))
    except (IntakeError, versions.PublishConflict) as exc:
        alert = create_alert(_problems_text(exc), alert_id=f"data-{src}-alert")
        if isinstance(exc, IntakeError) and _still_pending(str(token), actor):
            return no_update, no_update, alert, False
        return CLOSED, None, alert, False
    before = f"（此前 v{done.previous}）" if done.previous is not None else ""
    notice = create_notice(f"已发布：当前数据版本 v{done.version}{before}，共 {done.rows:,} 行。"
                           "各页面在下一次打开或刷新时显示新数据。", tone="ok", notice_id=f"data-{src}-published")
    return CLOSED, None, notice, True


def cancel_change(src: str, n_clicks, token) -> tuple:
    """取消: drop the viewer's prepared change. Returns (report, bar class, token, outcome)."""
    if not n_clicks:
        return no_update, no_update, no_update, no_update
    actor = viewer_name()
    try:
        if token:
            prepared = pub.load_prepared(str(token))
            if prepared.actor != actor:
                raise IntakeError("只能取消本人校验的变更")
            pub.discard(prepared.token)
    except IntakeError as exc:
        return no_update, CLOSED, None, create_alert(_problems_text(exc), alert_id=f"data-{src}-alert")
    return (create_notice("已取消：本次校验的变更未发布", tone="same", notice_id=f"data-{src}-cancelled"),
            CLOSED, None, None)


def _register_actions(src: str) -> None:
    grid = FORM_SOURCES.get(src)
    extra = [Output(grid, "rowData", allow_duplicate=True)] if grid else []

    def publish_failed(message: str) -> tuple:
        # the change stays prepared (and the bar open): 发布 may be tried again
        alert = create_alert(_busy(message), alert_id=f"data-{src}-alert")
        return (no_update, no_update, alert, *([no_update] * (2 + len(extra))))

    @callback(
        Output(f"data-{src}-actions", "className", allow_duplicate=True),
        Output(f"data-{src}-token", "data", allow_duplicate=True),
        Output(f"data-{src}-outcome", "children", allow_duplicate=True),
        Output("data-history", "children", allow_duplicate=True),
        Output("data-version", "children", allow_duplicate=True),
        *extra,
        Input(f"data-{src}-publish", "n_clicks"),
        State(f"data-{src}-token", "data"),
        State(f"data-{src}-confirm", "value"),
        background=True,
        prevent_initial_call=True,
        running=[(Output(f"data-{src}-job", "children"), PUBLISHING, None),
                 (Output(f"data-{src}-publish", "disabled"), True, False),
                 (Output(f"data-{src}-cancel", "disabled"), True, False)],
    )
    @exclusive(busy=publish_failed)
    @_job(_checked_submit)
    @_safe(publish_failed)
    def on_publish(n_clicks, token, confirmed):
        bar, new_token, outcome, published = publish_change(src, n_clicks, token, confirmed)
        if bar is no_update:
            return (no_update,) * (5 + len(extra))
        refreshed = (_history_view(), create_version_bar(_version_info())) if published else (no_update, no_update)
        rows = [_reload_grid(src) if published else no_update] if grid else []
        return (bar, new_token, outcome, *refreshed, *rows)

    @callback(
        Output(f"data-{src}-report", "children", allow_duplicate=True),
        Output(f"data-{src}-actions", "className", allow_duplicate=True),
        Output(f"data-{src}-token", "data", allow_duplicate=True),
        Output(f"data-{src}-outcome", "children", allow_duplicate=True),
        Output("data-history", "children", allow_duplicate=True),
        Input(f"data-{src}-cancel", "n_clicks"),
        State(f"data-{src}-token", "data"),
        prevent_initial_call=True,
    )
    def on_cancel(n_clicks, token):
        out = cancel_change(src, n_clicks, token)
        return (*out, no_update if out[1] is no_update else _history_view())

    @callback(
        Output(f"data-{src}-publish", "disabled"),
        Input(f"data-{src}-confirm", "value"),
        State(f"data-{src}-actions", "className"),
        prevent_initial_call=True,
    )
    def on_confirm(confirmed, bar):
        # 发布 waits for the tick only when there are warnings to confirm
        return bar == CONFIRM and not confirmed

    on_publish.__name__ = on_publish.__qualname__ = f"on_publish_{src}"
    on_cancel.__name__ = on_cancel.__qualname__ = f"on_cancel_{src}"
    on_confirm.__name__ = on_confirm.__qualname__ = f"on_confirm_{src}"


for _src in SOURCES:
    _register_actions(_src)


# ---------------------------------------------------------------- 回滚


@callback(
    Output("data-rollback-pending", "data"),
    Output("data-rollback-question", "children"),
    Output("data-rollback-bar", "className"),
    Input({"type": "data-rollback", "version": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def ask_rollback(clicks):
    """回滚 asks first: which version, and what it means."""
    trigger = dash.ctx.triggered_id
    if not trigger or not any(clicks or []):
        return no_update, no_update, no_update
    return rollback_question(trigger["version"])


def rollback_question(version) -> tuple:
    """(pending version, question, bar class) for a 回滚 button."""
    try:
        number = int(version)
    except (TypeError, ValueError):
        return None, None, CLOSED
    return number, f"确认将数据回滚至 v{number}？各页面将显示该版本的数据，之后的版本仍保留、可再切换。", OPEN


@callback(
    Output("data-rollback-pending", "data", allow_duplicate=True),
    Output("data-rollback-bar", "className", allow_duplicate=True),
    Output("data-rollback-outcome", "children"),
    Output("data-history", "children", allow_duplicate=True),
    Output("data-version", "children", allow_duplicate=True),
    *[Output(grid, "rowData", allow_duplicate=True) for grid in FORM_SOURCES.values()],
    Input("data-rollback-confirm", "n_clicks"),
    Input("data-rollback-cancel", "n_clicks"),
    State("data-rollback-pending", "data"),
    prevent_initial_call=True,
)
def on_rollback(_confirm, _cancel, version):
    """确认回滚 switches the current version back (the forms reload from it); 取消 closes the question."""
    if dash.ctx.triggered_id == "data-rollback-cancel":
        return None, CLOSED, None, no_update, no_update, no_update, no_update
    out = do_rollback(version)
    rolled_back = out[4] is not no_update
    return (*out, *[_reload_grid(src) if rolled_back else no_update for src in FORM_SOURCES])


def do_rollback(version) -> tuple:
    """(pending, bar class, outcome, history, version bar) after rolling back to ``version``."""
    try:
        number = int(version)
        done = pub.rollback(number, actor=viewer_name())
    except (TypeError, ValueError):
        return None, CLOSED, create_alert("请先在导入记录中选择要回滚的版本", alert_id="data-rollback-alert"), \
            no_update, no_update
    except (IntakeError, versions.PublishConflict) as exc:
        return None, CLOSED, create_alert(_problems_text(exc), alert_id="data-rollback-alert"), \
            _history_view(), no_update
    notice = create_notice(f"已回滚：当前数据版本 v{done.version}（此前 v{done.previous}）。"
                           "各页面在下一次打开或刷新时显示该版本的数据。", tone="ok", notice_id="data-rollback-done")
    return None, CLOSED, notice, _history_view(), create_version_bar(_version_info())
