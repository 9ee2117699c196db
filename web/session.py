"""The viewer of the current request and their access scope, derived on the server only.

In a request the viewer is the principal the login guard (``web/auth.py``) resolved from the
session cookie: a person (their role, region and department, from the operational store) or
a wall display (its device token's region and playlist). Nothing a browser sends can widen it.
Outside a request (a CLI, the cache warm-up, a test calling a page function) the viewer is
whoever :func:`viewing_as` names. With no viewer the scope fails closed: :class:`ScopeError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_request_context

from data.identity import Principal
from data.scope import Scope, ScopeError

NO_VIEWER = "未登录或会话已失效：没有访问范围，拒绝查询"

_viewer: ContextVar[Principal | None] = ContextVar("cockpit_viewer", default=None)


def current_viewer() -> Principal | None:
    """The request's principal (set by the login guard), else the :func:`viewing_as` one, else None."""
    if has_request_context():
        return g.get("cockpit_viewer")
    return _viewer.get()


def viewer_scope() -> Scope:
    """The scope of the current request's viewer (:class:`ScopeError` when there is none)."""
    viewer = current_viewer()
    if viewer is None:
        raise ScopeError(NO_VIEWER)
    return viewer.scope


def viewer_name() -> str:
    """Who the viewer is, as shown in the header and recorded in the import history."""
    viewer = current_viewer()
    if viewer is None:
        raise ScopeError(NO_VIEWER)
    return viewer.name


def viewer_playlist() -> dict[str, str]:
    """A wall display's default /screen query (its device token's playlist); {} for a person."""
    viewer = current_viewer()
    return dict(viewer.playlist) if viewer is not None else {}


def system_viewer(scope: Scope, name: str = "系统") -> Principal:
    """A principal for work the server does itself (the cache warm-up, a CLI)."""
    return Principal(kind="system", actor=name, name=name, role=None, scope=scope, region_code=scope.regions[0])


@contextmanager
def viewing_as(viewer: Principal | None) -> Iterator[Principal | None]:
    """Outside a request: run the block as ``viewer`` (a CLI's user, the warm-up, a test)."""
    token = _viewer.set(viewer)
    try:
        yield viewer
    finally:
        _viewer.reset(token)
