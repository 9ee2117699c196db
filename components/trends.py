"""Trend charts, with an optional forecast overlay (dashed line with its band)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.theme import ACCENT, PRIMARY, primary_tint
from metrics.format import fmt_value


def create_trend(
    series: pd.DataFrame,
    *,
    unit: str,
    name: str,
    period_name: str = "当月",
    forecast: pd.DataFrame | None = None,
    show_target: bool = True,
    height: int = 300,
) -> go.Figure:
    """History of ``series`` (month, value, target) labelled 当月/累计; ``forecast`` (index of
    months, mean, lo80/hi80, lo95/hi95) is drawn dashed with its 80% and 95% bands."""
    fig = go.Figure()
    x = pd.to_datetime(series["month"])
    fig.add_trace(go.Scatter(
        x=x, y=series["value"], mode="lines+markers", name=f"{name}（{period_name}）",
        line={"color": PRIMARY, "width": 2}, marker={"size": 4},
        text=[fmt_value(v, unit) for v in series["value"]],
        hovertemplate="%{x|%Y年%m月}<br>%{text}<extra></extra>",
    ))
    if show_target and "target" in series and series["target"].notna().any():
        fig.add_trace(go.Scatter(x=x, y=series["target"], mode="lines", name="目标", line={"color": ACCENT,
                                 "dash": "dot", "width": 1.5}, hovertemplate="目标 %{y:.1f}<extra></extra>"))
    if forecast is not None and not forecast.empty:
        fx = forecast.index.to_timestamp() if isinstance(forecast.index, pd.PeriodIndex) else forecast.index
        for lo, hi, alpha, label in (("lo95", "hi95", 0.12, "95% 区间"), ("lo80", "hi80", 0.22, "80% 区间")):
            fig.add_trace(go.Scatter(x=list(fx) + list(fx[::-1]), y=list(forecast[hi]) + list(forecast[lo][::-1]),
                                     mode="lines", fill="toself", fillcolor=primary_tint(alpha),
                                     line={"width": 0}, hoverinfo="skip", name=label))
        fig.add_trace(go.Scatter(x=fx, y=forecast["mean"], mode="lines", name="预测",
                                 line={"color": PRIMARY, "dash": "dash", "width": 2},
                                 text=[fmt_value(v, unit) for v in forecast["mean"]],
                                 hovertemplate="%{x|%Y年%m月} 预测<br>%{text}<extra></extra>"))
    fig.update_layout(template="cockpit", height=height, hovermode="x unified",
                      legend={"orientation": "h", "y": -0.18}, yaxis={"title": unit},
                      xaxis={"tickformat": "%Y年%m月"}, margin={"l": 56, "r": 16, "t": 16, "b": 48})
    return fig
