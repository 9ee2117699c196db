"""Reading Dash component trees in page tests."""

from dash import dcc


def walk(component):
    """Every component in a tree, depth first."""
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from walk(child)


def texts(component) -> str:
    """All the text (and numbers) shown in a tree, space-separated."""
    out = []
    for c in walk(component):
        children = getattr(c, "children", None)
        for x in children if isinstance(children, (list, tuple)) else [children]:
            if isinstance(x, (str, int)):
                out.append(str(x))
    return " ".join(out)


def by_id(component, cid):
    """The first component whose id is ``cid``."""
    return next(c for c in walk(component) if getattr(c, "id", None) == cid)


def graph(component, gid):
    """The graph with id ``gid``, or the click-graph whose pattern id names ``gid``."""
    return next(c for c in walk(component) if isinstance(c, dcc.Graph)
                and (c.id == gid or (isinstance(c.id, dict) and c.id.get("graph") == gid)))
