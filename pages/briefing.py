"""简报 · 月度简报: pick region and month, read the preview, export PDF or PPTX.

The export runs as a Dash background callback (``app.py`` sets the job manager of
``web/jobs.py``): the progress bar follows its steps, then the file arrives through
``dcc.Download``. One export runs per viewer at a time (a second click says 「已有导出在进行中，请稍候」).
"""

from __future__ import annotations

import tempfile

import dash
from dash import Input, Output, State, callback, dcc, html

from briefing.content import briefing_content
from briefing.document import to_html
from components.page import page_notice, user_notice
from components.shell import create_page_top
from metrics.page_state import PageState, page_context
from web.jobs import exclusive
from web.page_cache import cached_page
from web.session import viewer_scope

dash.register_page(__name__, path="/briefing", name="简报", title="简报 · 领导驾驶舱", order=7)

TITLE = "月度简报"


@cached_page  # a repeat view of the same URL, scope, version and day (web/page_cache.py)
@page_notice(TITLE, "briefing")
def layout(region: str | None = None, month: str | None = None, **_ignored):
    """The page as a pure function of its URL."""
    state = PageState.from_args(region=region, month=month)
    scope = viewer_scope()
    ctx = page_context(state.region, state.month, "ytd", scope=scope)
    b = briefing_content(ctx.region, ctx.month, scope=scope)
    controls = [
        dcc.RadioItems(id="briefing-format", value="pdf", inline=True, className="briefing-format",
                       options=[{"label": "PDF（A4 公文版式）", "value": "pdf"},
                                {"label": "PPTX（16:9 可编辑）", "value": "pptx"}]),
        html.Button("导出", id="briefing-export", className="briefing-export", n_clicks=0),
    ]
    return html.Div([
        *create_page_top("briefing", TITLE, ctx, state.as_dict(), period_control=False),
        dcc.Store(id="briefing-request", data={"region": ctx.region, "month": ctx.month}),
        html.Section([
            html.Div([html.H3("导出"), html.Div(controls, className="controls")], className="panel-head"),
            html.Div([html.Progress(id="briefing-progress", value="0", max="4", className="briefing-progress"),
                      html.Span("选择格式后点击导出；生成约需 10～20 秒", id="briefing-status",
                                className="briefing-status")], className="briefing-progress-row"),
            dcc.Download(id="briefing-download"),
        ], className="panel briefing-panel"),
        html.Section([html.H3(f"预览 · {b.title}（{b.month_label}）"),
                      html.Iframe(srcDoc=to_html(b), id="briefing-preview", className="briefing-preview",
                                  title="简报预览")],
                     className="panel briefing-panel"),
    ], className="page briefing-page")


@callback(
    Output("briefing-download", "data"),
    Output("briefing-status", "children"),
    Input("briefing-export", "n_clicks"),
    State("briefing-format", "value"),
    State("briefing-request", "data"),
    background=True,
    prevent_initial_call=True,
    running=[(Output("briefing-export", "disabled"), True, False)],
    progress=[Output("briefing-progress", "value"), Output("briefing-progress", "max")],
)
@exclusive(busy=lambda message: (dash.no_update, message))  # one export per viewer; see web/jobs.py
@user_notice(lambda message: (dash.no_update, f"导出失败：{message}"))  # BriefingError, FormatError, ScopeError…
def export_briefing(set_progress, n_clicks, fmt, request):
    """Write the chosen file in a background process, reporting each step, then send it."""
    from briefing.charts import ChartError
    from briefing.export import export

    if not n_clicks or not request:
        return dash.no_update, dash.no_update
    if not isinstance(request, dict) or not all(isinstance(request.get(k), str) for k in ("region", "month")):
        return dash.no_update, "导出失败：页面状态无效，请刷新页面后重试"
    if fmt not in (None, "pdf", "pptx"):
        return dash.no_update, "导出失败：格式应为 PDF 或 PPTX"
    fmt = fmt or "pdf"
    with tempfile.TemporaryDirectory(prefix="briefing-") as out:
        try:
            result = export(request["region"], request["month"], fmt, out, scope=viewer_scope(),
                            progress=lambda step, total, _label: set_progress((str(step), str(total))))
        except ChartError as exc:  # no browser to draw with: the operator's problem, said in Chinese
            return dash.no_update, f"导出失败：{exc}"
        path = result["paths"][fmt]
        data = dcc.send_bytes(path.read_bytes(), path.name)
    return data, f"已生成 {path.name}（{result['timings']['total']:.1f} 秒）"
