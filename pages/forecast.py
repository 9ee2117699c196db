"""预测 · for planners: a KPI's forecast with its bands, the chance of meeting the year's
target, the pace needed, the model and its back-test, a what-if, and downloads."""

from __future__ import annotations

import math
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from components.cards import create_empty
from components.forecast_chart import create_forecast_chart
from components.page import page_notice, user_notice
from components.shell import create_page_top, url_param
from components.theme import GRAPH_CONFIG
from metrics.catalogue import load_catalogue
from metrics.forecast_view import (
    HORIZONS,
    WHAT_IF_MODE_LABELS,
    forecast_page_data,
    forecast_table,
    what_if_view,
)
from metrics.forecasting import WHAT_IF_MODES
from metrics.page_state import PageState
from web.page_cache import cached_page
from web.session import viewer_scope

dash.register_page(__name__, path="/forecast", name="预测", title="预测 · 领导驾驶舱", order=6)

WHAT_IF_LIMIT = 2.0


def _panel(title: str, body, panel_id: str, extra_class: str = "") -> html.Section:
    return html.Section([html.H4(title), html.Div(body, className="forecast-text")],
                        className=f"panel forecast-card {extra_class}".strip(), id=panel_id)


@cached_page  # a repeat view of the same URL, scope, version and day (web/page_cache.py)
@page_notice("预测", "forecast")
def layout(region: str | None = None, kpi: str = "online_handling_rate", h: str = "6", view: str | None = None,
           **_ignored):
    """The page as a pure function of its URL."""
    state = PageState.from_args(region=region, kpi=kpi, h=h, view=view)
    data = forecast_page_data(region, kpi, h, view, scope=viewer_scope())
    cat = load_catalogue()
    controls = [
        html.Label(["指标", url_param("kpi", dcc.Dropdown, options=[{"label": x.name, "value": x.id}
                                                                     for x in cat.kpis.values()],
                                      value=data.kpi, clearable=False, className="kpi-select")]),
        html.Label(["预测期", url_param("h", dcc.RadioItems, value=str(data.horizon), inline=True,
                                        options=[{"label": f"{n} 个月", "value": str(n)} for n in HORIZONS],
                                        className="forecast-horizon")]),
        html.Label(["口径", url_param("view", dcc.RadioItems, value=data.view, inline=True,
                                      options=data.view_options, className="forecast-view")]),
    ]
    if data.has_data:
        fig = create_forecast_chart(data.history, data.forecast, data.future_target, unit=data.unit,
                                    name=data.name, period_name=data.series_label)
        chart = dcc.Graph(id="forecast-graph", figure=fig, config=GRAPH_CONFIG)
    else:
        chart = create_empty()
    att = data.attainment
    bt = data.backtest
    side = [
        _panel("年底达标概率", [html.P(data.probability_text, className="forecast-big", id="forecast-probability"),
                                html.P(data.target_text, className="forecast-muted")],
               "forecast-attainment", "forecast-card--lead"),
        _panel("年底预计", [html.P(data.expected_text, id="forecast-expected"),
                            html.P(data.remaining_text, className="forecast-muted")], "forecast-year-end"),
        _panel("所需进度", html.P(data.needed_text, id="forecast-needed"), "forecast-pace"),
        _panel("模型与回测", [html.P(data.model_zh, id="forecast-model"),
                              html.P(bt["text"], id="forecast-backtest"),
                              html.P(f"引擎说明：{data.model or '—'}", className="forecast-muted forecast-raw",
                                     title=f"建模序列：{data.modelled or '—'}")], "forecast-model-panel"),
    ]
    what_if = what_if_view(data.kpi, data.ctx.region, 0.0, "ramp", scope=viewer_scope()) \
        if att.has_data else {"text": "暂无数据"}
    unit = data.what_if_unit
    what_if_panel = html.Section([
        html.H4(f"情景推演 · 每月提高 N {unit}（{att.year}年底{data.name}）"),
        html.Div([
            html.Div(dcc.Slider(id="forecast-whatif-pp", min=-WHAT_IF_LIMIT, max=WHAT_IF_LIMIT, step=0.1, value=0,
                                marks={v: f"{v:+g}" if v else "0" for v in (-2, -1, 0, 1, 2)},
                                tooltip={"placement": "bottom", "always_visible": False}),
                     className="forecast-slider"),
            dcc.RadioItems(id="forecast-whatif-mode", value="ramp", inline=True,
                           options=[{"label": WHAT_IF_MODE_LABELS[m], "value": m} for m in WHAT_IF_MODES]),
        ], className="forecast-whatif-controls"),
        html.P(what_if["text"], id="forecast-whatif-result", className="forecast-whatif-result"),
    ], className="panel forecast-whatif", id="forecast-whatif")
    downloads = html.Section([
        html.H4("下载预测"),
        html.Div([html.Button("CSV", id="forecast-download-csv", className="forecast-button"),
                  html.Button("Excel", id="forecast-download-xlsx", className="forecast-button")],
                 className="forecast-downloads"),
        html.P(f"{data.name}（{data.series_label}）未来 {data.horizon} 个月：预测值与 80%、95% 区间",
               className="forecast-muted"),
        html.P("", id="forecast-download-status", className="forecast-muted"),
        dcc.Download(id="forecast-download"),
    ], className="panel forecast-download-panel")
    return html.Div(
        [
            *create_page_top("forecast", "预测", data.ctx, state.as_dict(), extra_controls=controls,
                             period_control=False),
            dcc.Store(id="forecast-state", data={"kpi": data.kpi, "region": data.ctx.region,
                                                 "h": data.horizon, "view": data.view}),
            html.Div([
                html.Section([html.H3(data.title), html.Div(chart, id="forecast-chart")],
                             className="panel forecast-chart-panel"),
                html.Div(side, className="forecast-side"),
            ], className="forecast-grid"),
            html.Div([what_if_panel, downloads], className="forecast-grid forecast-grid--bottom"),
        ],
        className="page page--forecast",
    )


@callback(
    Output("forecast-whatif-result", "children"),
    Input("forecast-whatif-pp", "value"),
    Input("forecast-whatif-mode", "value"),
    State("forecast-state", "data"),
    prevent_initial_call=True,
)
@user_notice(lambda message: message)
def update_what_if(pp, mode, state):
    """The year-end figure for the slider's monthly shift (the fits are cached)."""
    if not state:
        return no_update
    if not isinstance(state, dict) or not all(isinstance(state.get(k), str) for k in ("kpi", "region")):
        return "页面状态无效，请刷新页面后重试"
    try:
        pp = float(pp or 0.0)
    except (TypeError, ValueError, OverflowError):
        pp = math.nan
    if not math.isfinite(pp):
        return f"情景推演的幅度应为 {-WHAT_IF_LIMIT:g}～{WHAT_IF_LIMIT:g} 之间的数"
    pp = max(-WHAT_IF_LIMIT, min(WHAT_IF_LIMIT, pp))
    mode = mode if isinstance(mode, str) and mode in WHAT_IF_MODES else "ramp"
    return what_if_view(state["kpi"], state["region"], pp, mode, scope=viewer_scope())["text"]


@callback(
    Output("forecast-download", "data"),
    Output("forecast-download-status", "children"),
    Input("forecast-download-csv", "n_clicks"),
    Input("forecast-download-xlsx", "n_clicks"),
    State("forecast-state", "data"),
    prevent_initial_call=True,
)
@user_notice(lambda message: (no_update, f"下载失败：{message}"))
def download(_csv, _xlsx, state):
    """The forecast as CSV or Excel, whichever button was clicked (or why it cannot be)."""
    if not state:
        return no_update, no_update
    if not isinstance(state, dict) or not all(isinstance(state.get(k), (str, int)) for k in ("kpi", "region", "h")):
        return no_update, "下载失败：页面状态无效，请刷新页面后重试"
    data = download_file("xlsx" if dash.ctx.triggered_id == "forecast-download-xlsx" else "csv", state)
    return data, ""


def download_file(kind: str, state: dict) -> dict[str, Any]:
    """The ``dcc.Download`` payload of the forecast table (the viewer's scope applies, as on screen)."""
    df = forecast_table(state["region"], state["kpi"], state["h"], state["view"], scope=viewer_scope())
    name = f"预测_{state['kpi']}_{state['region']}_{state['h']}个月"
    if kind == "xlsx":
        return dcc.send_data_frame(df.to_excel, f"{name}.xlsx", sheet_name="预测", index=False)
    return dcc.send_data_frame(df.to_csv, f"{name}.csv", index=False)
