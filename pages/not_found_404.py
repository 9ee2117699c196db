"""页面不存在: what an unknown path shows, inside the cockpit's shell (the server answers 404).

Dash uses a page module named ``not_found_404`` for every path no page claims; it is hidden
from the navigation.
"""

from __future__ import annotations

import dash
from dash import dcc, html

dash.register_page(__name__, path="/404", name="页面不存在", title="页面不存在 · 领导驾驶舱", hidden=True,
                   order=99)


def layout(**_ignored):
    """The same page whatever the URL asked for (the path is not echoed back)."""
    links = [dcc.Link(p["name"], href=p["path"], className="not-found-link")
             for p in sorted(dash.page_registry.values(), key=lambda p: p.get("order", 99)) if not p.get("hidden")]
    return html.Div([
        html.H2("页面不存在"),
        html.Div("您访问的页面不存在或已被移除，请检查地址，或从下面的页面继续。", className="error-banner",
                 id="not-found-message"),
        html.Nav(links, className="not-found-links", id="not-found-links"),
    ], className="page not-found-page")
