"""The planners' forecast chart: history, the forecast with its 80% and 95% bands, the target."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.theme import ACCENT, MUTED, PRIMARY, primary_tint
from metrics.format import fmt_value


def _interval(lo, hi, unit: str) -> str:
    return f"{fmt_value(lo, unit)}～{fmt_value(hi, unit)}"


def create_forecast_chart(history: pd.DataFrame, forecast: pd.DataFrame, future_target: list, *, unit: str,
                          name: str, period_name: str, height: int = 400) -> go.Figure:
    """``history`` (month, value, target) solid; ``forecast`` (PeriodIndex; mean, lo80, hi80,
    lo95, hi95) dashed inside its bands; the target line runs over both. The forecast's hover
    names both intervals with units."""
    fig = go.Figure()
    hx = pd.to_datetime(history["month"])
    fx = forecast.index.to_timestamp()
    band_x = list(fx) + list(fx[::-1])
    for lo, hi, alpha, label in (("lo95", "hi95", 0.12, "95% 区间"), ("lo80", "hi80", 0.24, "80% 区间")):
        fig.add_trace(go.Scatter(x=band_x, y=list(forecast[hi]) + list(forecast[lo][::-1]), fill="toself", mode="lines",
                                 fillcolor=primary_tint(alpha), line={"width": 0}, hoverinfo="skip",
                                 name=label, legendgroup=label))
    fig.add_trace(go.Scatter(
        x=hx, y=history["value"], mode="lines+markers", name=f"{name}（{period_name}）",
        line={"color": PRIMARY, "width": 2}, marker={"size": 4},
        text=[fmt_value(v, unit) for v in history["value"]],
        hovertemplate="%{x|%Y年%m月} 实际<br>%{text}<extra></extra>",
    ))
    hover = [f"{fmt_value(r.mean, unit)}<br>80% 区间 {_interval(r.lo80, r.hi80, unit)}"
             f"<br>95% 区间 {_interval(r.lo95, r.hi95, unit)}" for r in forecast.itertuples()]
    fig.add_trace(go.Scatter(x=fx, y=forecast["mean"], mode="lines+markers", name="预测",
                             line={"color": PRIMARY, "dash": "dash", "width": 2},
                             marker={"size": 4, "symbol": "circle-open"},
                             text=hover, hovertemplate="%{x|%Y年%m月} 预测<br>%{text}<extra></extra>"))
    targets = list(history["target"]) + list(future_target or [None] * len(fx))
    if any(t is not None and t == t for t in targets):
        tx = list(hx) + list(fx)
        fig.add_trace(go.Scatter(x=tx, y=targets, mode="lines", name="目标", line={"color": ACCENT, "dash": "dot",
                                 "width": 1.5, "shape": "hv"}, text=[fmt_value(t, unit) for t in targets],
                                 hovertemplate="目标 %{text}<extra></extra>"))
    if len(hx):
        fig.add_vline(x=hx.iloc[-1].timestamp() * 1000, line={"color": MUTED, "width": 1, "dash": "dot"})
        fig.add_annotation(x=hx.iloc[-1], y=0, yref="paper", text="数据截至", showarrow=False, xanchor="right",
                           xshift=-4, font={"size": 11, "color": MUTED}, yanchor="bottom")
    fig.update_layout(template="cockpit", height=height, hovermode="x unified",
                      legend={"orientation": "h", "y": -0.16, "x": 0}, yaxis={"title": unit},
                      xaxis={"tickformat": "%Y年%m月"}, margin={"l": 64, "r": 16, "t": 24, "b": 56})
    return fig
