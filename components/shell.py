"""The app shell: header, navigation built from the page registry, and the URL state bar."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, callback, dcc, html, no_update

from metrics.page_state import PageState
from metrics.periods import add_months

PLANNED_PAGES = [("政务服务", "/services"), ("资金", "/spending"), ("项目", "/projects"),
                 ("督办", "/tasks"), ("考核", "/ranking"), ("预测", "/forecast"), ("简报", "/briefing")]


def url_param(name: str, component_type, **props):
    """A control whose value lives in the URL query string under ``name``.

    A hidden store beside it remembers the value the page was rendered with, so a control
    that re-emits its value while mounting does not rewrite the URL.
    """
    control = component_type(id={"type": "url-param", "name": name}, **props)
    rendered = dcc.Store(id={"type": "url-param-rendered", "name": name}, data=_url_value(props.get("value")))
    return html.Span([control, rendered], className="url-param")


def _url_value(value) -> str:
    """A control's value as written in the query string ('' for none; lists comma-joined)."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def create_nav_links(may_open=None) -> list:
    """The navigation links from ``dash.page_registry`` (only those ``may_open(path)`` allows,
    when given: the viewer's role); pages not built yet are shown as coming."""
    pages = sorted(dash.page_registry.values(), key=lambda p: p.get("order", 99))
    built = {p["path"] for p in pages}
    allowed = may_open or (lambda _path: True)
    links = [dcc.Link(p["name"], href=p["path"], className="nav-link", id=f"nav-{p['module'].split('.')[-1]}")
             for p in pages if not p.get("hidden") and allowed(p["path"])]
    planned = [html.Span(name, className="nav-link nav-link--planned", title="即将上线")
               for name, path in PLANNED_PAGES if path not in built]
    screen = ([html.A("大屏", href="/screen", target="_blank", className="nav-link", id="nav-screen")]
              if allowed("/screen") else [])
    return links + planned + screen


def create_nav() -> html.Nav:
    """Navigation from ``dash.page_registry`` (narrowed to the viewer's role once they are known)."""
    return html.Nav(create_nav_links(), className="nav", id="shell-nav")


def create_shell(page_container) -> html.Div:
    """The whole app frame around ``dash.page_container``."""
    return html.Div(
        [
            dcc.Location(id="shell-url", refresh="callback-nav"),
            html.Header(
                [html.Div([html.Span("领导驾驶舱", className="brand-title"),
                           html.Span("数字政府建设运行监测", className="brand-sub")], className="brand"),
                 create_nav(),
                 html.Div(id="shell-user", className="shell-user")],  # the viewer and 退出 (web/auth.py)
                className="app-header",
            ),
            html.Main(page_container, className="app-main"),
        ],
        className="app",
    )


def create_filter_bar(region_options, region, month_options, month, period, extra=None) -> html.Div:
    """Region, month and (unless ``period`` is None) period pickers whose state lives in the URL."""
    controls = [
        html.Label(["地区", url_param("region", dcc.Dropdown, options=region_options, value=region,
                                      clearable=False, searchable=True, className="filter-region")]),
        html.Label(["月份", url_param("month", dcc.Dropdown, options=month_options, value=month,
                                      clearable=False, searchable=False, className="filter-month")]),
    ]
    if period is not None:
        controls.append(html.Label(["统计期", url_param("period", dcc.RadioItems, value=period, inline=True,
                                                        options=[{"label": "累计", "value": "ytd"},
                                                                 {"label": "当月", "value": "month"}],
                                                        className="filter-period")]))
    return html.Div(controls + list(extra or []), className="filter-bar")


def create_page_top(prefix: str, title: str, ctx: dict, state: dict, extra_controls=None,
                    period_control: bool = True) -> list:
    """Heading, breadcrumb and filter bar of a page, from ``metrics.page_state.page_context``."""
    bar = create_filter_bar(region_options(ctx["regions"]), ctx["region"], month_options(*ctx["months"]),
                            ctx["month"], ctx["period"] if period_control else None, extra=extra_controls)
    return [
        html.Div([html.H2(f"{title} · {ctx['region_name']}"),
                  html.Span(f"{ctx['period_label']}（{ctx['period_name']}） · 数据截至 {ctx['as_of']}",
                            className="page-sub")], className="page-head"),
        create_breadcrumb(ctx["lineage"], state, prefix),
        bar,
    ]


def create_error_page(title: str, message: str, prefix: str) -> html.Div:
    """A page that explains, in Chinese, why it cannot show what the URL asked for."""
    return html.Div([html.H2(title), html.Div(message, className="error-banner", id=f"{prefix}-error")],
                    className="page")


def month_options(first, last) -> list[dict]:
    """Months newest first, labelled 2026年10月."""
    out, m = [], last
    while m >= first:
        out.append({"label": f"{m.year}年{m.month}月", "value": m.strftime("%Y-%m")})
        m = add_months(m, -1)
    return out


def region_options(regions) -> list[dict]:
    """Regions indented by level for the picker."""
    pad = {"province": "", "city": "\u3000", "county": "\u3000\u3000"}
    return [{"label": f"{pad[r.level]}{r.name}", "value": r.code, "search": r.name} for r in regions]


def click_graph(name: str, graph_id: str, **props):
    """A graph whose clicked point sets the URL parameter ``name`` to the point's first customdata."""
    return dcc.Graph(id={"type": "url-click", "name": name, "graph": graph_id}, **props)


def create_breadcrumb(lineage, search: dict, prefix: str) -> html.Nav:
    """省 › 市 › 县 links that climb back up (each keeps the rest of the URL state)."""
    items = []
    for i, region in enumerate(lineage):
        if i:
            items.append(html.Span("›", className="crumb-sep"))
        if i == len(lineage) - 1:
            items.append(html.Span(region.name, className="crumb crumb--current"))
        else:
            href = PageState.from_args(**search).href(region=region.code)
            items.append(dcc.Link(region.name, href=href, className="crumb", id=f"{prefix}-crumb-{region.code}"))
    return html.Nav(items, className="breadcrumb", id=f"{prefix}-breadcrumb")


@callback(
    Output("shell-url", "search", allow_duplicate=True),
    Input({"type": "url-click", "name": ALL, "graph": ALL}, "clickData"),
    State("shell-url", "search"),
    prevent_initial_call=True,
)
def click_to_url(clicks, search):
    """A click on a map region or a bar puts its code into the URL (drill-down, cross-filter)."""
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or not isinstance(trigger.get("name"), str) or not isinstance(clicks, list):
        return no_update
    hits = [i for i, t in enumerate(dash.ctx.inputs_list[0]) if isinstance(t, dict) and t.get("id") == trigger]
    data = clicks[hits[0]] if hits and hits[0] < len(clicks) else None
    points = (data.get("points") if isinstance(data, dict) else None) or []
    if not isinstance(points, list) or not points or not isinstance(points[0], dict) \
            or not points[0].get("customdata"):
        return no_update
    value = points[0]["customdata"]
    value = value[0] if isinstance(value, (list, tuple)) else value
    if not isinstance(value, (str, int)):
        return no_update  # a region code or an id, nothing else goes into the URL
    return PageState.from_query(search).changed(**{trigger["name"]: str(value)}).query


@callback(
    Output("shell-url", "search"),
    Input({"type": "url-param", "name": ALL}, "value"),
    State({"type": "url-param", "name": ALL}, "id"),
    State({"type": "url-param-rendered", "name": ALL}, "data"),
    State({"type": "url-param-rendered", "name": ALL}, "id"),
    State("shell-url", "search"),
    prevent_initial_call=True,
)
def sync_url(values, ids, rendered, rendered_ids, search):
    """Write the control the viewer changed into the query string (the page re-renders from it).

    An empty value (a cleared dropdown, an unticked checklist) removes the parameter.
    """
    trigger = dash.ctx.triggered_id
    if not trigger:  # components mounting, not a viewer's change
        return no_update
    if (not isinstance(trigger, dict) or not isinstance(trigger.get("name"), str) or not isinstance(ids, list)
            or trigger not in ids or not isinstance(values, list) or len(values) != len(ids)
            or not isinstance(rendered, list) or not isinstance(rendered_ids, list)
            or len(rendered) != len(rendered_ids) or not all(isinstance(r, dict) for r in rendered_ids)):
        return no_update  # not what the page's controls send
    name = trigger["name"]
    value = _url_value(values[ids.index(trigger)])
    before = dict(zip([r.get("name") for r in rendered_ids], rendered, strict=True)).get(name)
    state = PageState.from_query(search)  # anything but a string (a malformed body) is empty
    if value == before and state.get(name, value) == value:
        return no_update  # the value the page was rendered with: a mount, not a change
    new = state.changed(**{name: value or None}).query  # an empty value removes the parameter
    return no_update if new == search else new
