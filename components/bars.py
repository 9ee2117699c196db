"""Ranking bars drawn from a KPI table (no queries inside)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.theme import RAG_COLOURS
from metrics.format import fmt_value


def create_ranking_bar(df: pd.DataFrame, *, unit: str, title: str = "", height: int | None = None) -> go.Figure:
    """Horizontal bars, best at the top, coloured by RAG; hover gives exact values."""
    data = df.dropna(subset=["value"]).sort_values("rank", ascending=False)
    fig = go.Figure(go.Bar(
        x=data["value"], y=data["region_name"], orientation="h",
        marker={"color": [RAG_COLOURS.get(r if isinstance(r, str) else None) for r in data["rag"]]},
        text=[fmt_value(v, unit) for v in data["value"]], textposition="auto",
        customdata=data[["region_code"]].to_numpy(),
        hovertemplate="<b>%{y}</b><br>%{text}<extra></extra>",
    ))
    if "target" in data and data["target"].notna().any():
        fig.add_vline(x=float(data["target"].dropna().iloc[0]), line={"dash": "dash", "color": "#c8102e"},
                      annotation_text="目标", annotation_position="top")
    fig.update_layout(
        template="cockpit", title={"text": title, "font": {"size": 14}},
        height=height or max(260, 26 * len(data) + 80), margin={"l": 90, "r": 16, "t": 40, "b": 30},
        xaxis={"title": unit}, yaxis={"automargin": True},
    )
    return fig
