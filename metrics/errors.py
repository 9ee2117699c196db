"""The errors a viewer can cause, and their Chinese messages.

Every input the cockpit refuses (a malformed month, an unknown region or KPI, a region
outside the viewer's scope, a bad URL parameter of a page, an unreadable upload) raises a
subclass of :class:`UserError`, in the manner of httpx's ``HTTPError``: the pages (through
:func:`components.page.user_notice`), the screen API, the CLIs and the briefing catch that
one class and show its message with a 4xx status, never a 5xx. Anything else is a bug and
is raised.

Each subclass keeps the built-in base it had (``ValueError``, ``LookupError``,
``PermissionError``) so that older ``except ValueError`` clauses still hold. The hierarchy:

- :class:`UserError` (400)
  - ``metrics.periods.PeriodError`` (a malformed month or an unknown period)
  - ``metrics.regions.UnknownRegionError``, ``data.geo.UnknownRegionError`` (unknown codes)
  - ``data.scope.ScopeError`` (403: outside the viewer's scope)
  - the pages' parameter errors: ``RankingParamError``, ``TaskParamError``,
    ``ServicesInputError``, ``SpendingInputError``, ``ProjectsInputError``, ``ScreenInputError``
  - ``briefing.content.BriefingError``, ``briefing.export.FormatError``
  - ``data.intake.errors.IntakeError`` (an upload that cannot be read)
  - ``metrics.catalogue.UnknownKpiError`` (a KPI the catalogue does not declare) and
    ``metrics.catalogue.CatalogueError`` (a declaration it refuses)

A :class:`~data.scope.ScopeError` turned into a message is a denial the viewer sees; the
functions passed to :func:`on_denial` hear of each one (the web layer records it in the audit log).
"""

from __future__ import annotations

from collections.abc import Callable


class UserError(Exception):
    """Bad input from a viewer: its ``str`` is the Chinese message, ``status`` the HTTP status."""

    status = 400


USER_ERRORS: tuple[type[BaseException], ...] = (UserError,)  # every input error subclasses it

_denial_observers: list[Callable[[Exception], None]] = []


def on_denial(fn: Callable[[Exception], None]) -> Callable[[Exception], None]:
    """Call ``fn(exc)`` whenever a scope denial becomes a viewer's message (once per observer)."""
    if fn not in _denial_observers:
        _denial_observers.append(fn)
    return fn


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a viewer's error (shown as a message) rather than a bug."""
    return isinstance(exc, USER_ERRORS)


def user_status(exc: BaseException) -> int:
    """The HTTP status of a viewer's error: 403 for a scope denial, 400 for the rest."""
    return getattr(exc, "status", 400) if isinstance(exc, UserError) else 400


def user_message(exc: BaseException) -> str | None:
    """The Chinese message to show for ``exc``, or None if it is a bug (to be raised)."""
    from data.scope import ScopeError  # data.scope imports this module for UserError

    if isinstance(exc, ScopeError):
        for observe in _denial_observers:
            observe(exc)
    if is_user_error(exc):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"数据库不可用：{exc}"
    return None
