"""Ranking bars drawn from a KPI table (no queries inside)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from components.theme import ACCENT, RAG_COLOURS, fast_figure
from metrics.format import fmt_value


def create_ranking_bar(df: pd.DataFrame, *, unit: str, title: str = "", height: int | None = None) -> go.Figure:
    """Horizontal bars, best at the top, coloured by RAG; hover gives exact values."""
    data = df.dropna(subset=["value"]).sort_values("rank", ascending=False)
    values = data["value"].astype(float).tolist()
    trace = {
        "type": "bar", "x": values, "y": data["region_name"].tolist(), "orientation": "h",
        "marker": {"color": [RAG_COLOURS.get(r if isinstance(r, str) else None) for r in data["rag"]]},
        "text": [fmt_value(v, unit) for v in values], "textposition": "auto",
        "customdata": [[c] for c in data["region_code"]],
        "hovertemplate": "<b>%{y}</b><br>%{text}<extra></extra>",
    }
    layout = {
        "title": {"text": title, "font": {"size": 14}},
        "height": height or max(260, 26 * len(data) + 80), "margin": {"l": 90, "r": 16, "t": 40, "b": 30},
        "xaxis": {"title": {"text": unit}}, "yaxis": {"automargin": True},
    }
    if "target" in data and data["target"].notna().any():
        target = float(data["target"].dropna().iloc[0])
        layout["shapes"] = [{"type": "line", "xref": "x", "yref": "paper", "x0": target, "x1": target, "y0": 0,
                             "y1": 1, "line": {"dash": "dash", "color": ACCENT}}]
        layout["annotations"] = [{"x": target, "xref": "x", "y": 1, "yref": "paper", "text": "目标",
                                  "showarrow": False, "yanchor": "bottom"}]
    return fast_figure([trace], layout)
