"""Trend charts, with an optional forecast overlay (dashed line with its band)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from components.theme import ACCENT, PRIMARY, SCREEN, primary_tint
from metrics.format import fmt_value

# the light pages' lines and bands, and the wall's (palette/tokens.toml, theme ``screen``): thick
# lines with a glow under the actuals, one band (80%) and the forecast dotted, read from five metres
_LIGHT: dict[str, Any] = {
    "actual": {"color": PRIMARY, "width": 2}, "marker": {"size": 4},
    "target": {"color": ACCENT, "dash": "dot", "width": 1.5},
    "bands": (("lo95", "hi95", primary_tint(0.12), "95% 区间"), ("lo80", "hi80", primary_tint(0.22), "80% 区间")),
    "forecast": {"color": PRIMARY, "dash": "dash", "width": 2}, "glow": None,
}
_WALL: dict[str, Any] = {
    "actual": {"color": SCREEN["cyan"], "width": 4}, "marker": {"size": 7, "color": SCREEN["marker"]},
    "target": {"color": SCREEN["target"], "dash": "dash", "width": 3},
    "bands": (("lo80", "hi80", SCREEN["band"], "80% 区间"),),
    "forecast": {"color": SCREEN["forecast"], "dash": "dot", "width": 4},
    "glow": {"color": SCREEN["glow"], "width": 12},
}


def create_trend(
    series: pd.DataFrame,
    *,
    unit: str,
    name: str,
    period_name: str = "当月",
    forecast: pd.DataFrame | None = None,
    show_target: bool = True,
    height: int = 300,
    wall: bool = False,
) -> go.Figure:
    """History of ``series`` (month, value, target) labelled 当月/累计; ``forecast`` (index of
    months, mean, lo80/hi80, lo95/hi95) is drawn dashed with its 80% and 95% bands.

    ``wall``: the big screen's variant of the same chart (its dark theme and sizes): the
    actuals glow, only the 80% band is drawn, the forecast and its band start from the last
    actual month, and the unit is a tick suffix instead of an axis title."""
    style = _WALL if wall else _LIGHT
    x = pd.to_datetime(series["month"])
    traces: dict[str, list[go.Scatter]] = {"actual": [], "target": [], "bands": [], "forecast": []}
    if style["glow"]:
        traces["actual"].append(go.Scatter(x=x, y=series["value"], mode="lines", line=style["glow"],
                                           hoverinfo="skip", showlegend=False))
    traces["actual"].append(go.Scatter(
        x=x, y=series["value"], mode="lines+markers", name=f"{name}（{period_name}）",
        line=style["actual"], marker=style["marker"],
        text=[fmt_value(v, unit) for v in series["value"]],
        hovertemplate="%{x|%Y年%m月}<br>%{text}<extra></extra>",
    ))
    if show_target and "target" in series and series["target"].notna().any():
        traces["target"].append(go.Scatter(x=x, y=series["target"], mode="lines", name="目标", line=style["target"],
                                           hovertemplate="目标 %{y:.1f}<extra></extra>"))
    if forecast is not None and not forecast.empty:
        fx = forecast.index.to_timestamp() if isinstance(forecast.index, pd.PeriodIndex) else forecast.index
        fc = forecast
        if wall and len(x):  # joined to the last actual month: no gap between history and forecast
            fx = pd.DatetimeIndex([x.iloc[-1], *fx])
            fc = pd.concat([pd.DataFrame({c: [series["value"].iloc[-1]] for c in forecast.columns}), forecast])
        for lo, hi, colour, label in style["bands"]:
            traces["bands"].append(go.Scatter(x=list(fx) + list(fx[::-1]), y=list(fc[hi]) + list(fc[lo][::-1]),
                                              mode="lines", fill="toself", fillcolor=colour, line={"width": 0},
                                              hoverinfo="skip", name=label))
        traces["forecast"].append(go.Scatter(x=fx, y=fc["mean"], mode="lines", name="预测", line=style["forecast"],
                                             text=[fmt_value(v, unit) for v in fc["mean"]],
                                             hovertemplate="%{x|%Y年%m月} 预测<br>%{text}<extra></extra>"))
    # the wall paints the band under the lines; the pages keep their legend's order
    order = ("bands", "target", "actual", "forecast") if wall else ("actual", "target", "bands", "forecast")
    fig = go.Figure([t for part in order for t in traces[part]])
    if wall:
        fig.update_layout(template="cockpit-wall", height=height, margin={"l": 78, "r": 14, "t": 8, "b": 40},
                          xaxis={"type": "date", "tickformat": "%Y.%m", "nticks": 4},
                          yaxis={"ticksuffix": "%" if unit == "%" else "", "nticks": 5})
        return fig
    fig.update_layout(template="cockpit", height=height, hovermode="x unified",
                      legend={"orientation": "h", "y": -0.18}, yaxis={"title": unit},
                      xaxis={"tickformat": "%Y年%m月"}, margin={"l": 56, "r": 16, "t": 16, "b": 48})
    return fig
