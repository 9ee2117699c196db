"""User-facing Chinese messages for the errors a viewer can cause.

A :class:`ScopeError` turned into a message is a denial the viewer sees; the functions passed
to :func:`on_denial` hear of each one (the web layer records it in the audit log).
"""

from __future__ import annotations

from collections.abc import Callable

from data.scope import ScopeError
from metrics.catalogue import CatalogueError, UnknownKpiError
from metrics.periods import PeriodError
from metrics.regions import UnknownRegionError

USER_ERRORS = (UnknownKpiError, UnknownRegionError, PeriodError, ScopeError, CatalogueError)

_denial_observers: list[Callable[[ScopeError], None]] = []


def on_denial(fn: Callable[[ScopeError], None]) -> Callable[[ScopeError], None]:
    """Call ``fn(exc)`` whenever a scope denial becomes a viewer's message (once per observer)."""
    if fn not in _denial_observers:
        _denial_observers.append(fn)
    return fn


def user_message(exc: BaseException) -> str | None:
    """The Chinese message to show for ``exc``, or None if it is a bug (to be raised)."""
    if isinstance(exc, ScopeError):
        for observe in _denial_observers:
            observe(exc)
    if isinstance(exc, USER_ERRORS):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"数据库不可用：{exc}"
    return None
