"""A tiny trend line for KPI cards."""

from __future__ import annotations

from dash import dcc

from components.theme import RAG_COLOURS, primary_tint


def create_sparkline(values: list[float | None], *, rag: str | None = None) -> dcc.Graph:
    """A static 12-month sparkline; gaps stay gaps."""
    colour = RAG_COLOURS.get(rag, RAG_COLOURS[None])
    # a plain figure dict, not a go.Figure: a dozen cards per view, and building Figures
    # costs ~2 ms each even unvalidated; dcc.Graph serialises either the same way
    fig = {"data": [{"type": "scatter", "y": list(values), "mode": "lines", "line": {"color": colour, "width": 2},
          "hoverinfo": "skip", "connectgaps": False, "fill": "tozeroy", "fillcolor": primary_tint(0.06)}],
           "layout": {"template": {}, "height": 36, "margin": {"l": 0, "r": 0, "t": 2, "b": 2}, "showlegend": False,
                      "xaxis": {"visible": False}, "yaxis": {"visible": False}}}
    return dcc.Graph(figure=fig, config={"staticPlot": True}, className="kpi-spark")
