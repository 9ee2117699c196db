"""User-facing Chinese messages for the errors a viewer can cause."""

from __future__ import annotations

from data.scope import ScopeError
from metrics.catalogue import CatalogueError, UnknownKpiError
from metrics.periods import PeriodError
from metrics.regions import UnknownRegionError

USER_ERRORS = (UnknownKpiError, UnknownRegionError, PeriodError, ScopeError, CatalogueError)


def user_message(exc: BaseException) -> str | None:
    """The Chinese message to show for ``exc``, or None if it is a bug (to be raised)."""
    if isinstance(exc, USER_ERRORS):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"数据库不可用：{exc}"
    return None
