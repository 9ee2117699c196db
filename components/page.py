"""The one place a page turns a viewer's error into its Chinese notice.

A page layout or callback decorated with :func:`page_notice` (or, for a callback that
answers with something other than a page, :func:`user_notice`) lets every
:class:`~metrics.errors.UserError` raised inside it (a malformed month, an unknown region,
a region outside the scope, a bad page parameter…) become the notice; anything else is a
bug and is raised (the server logs it with an incident number).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from components.shell import create_error_page
from metrics.errors import user_message

F = TypeVar("F", bound=Callable[..., Any])


def user_notice(render: Callable[[str], Any]) -> Callable[[F], F]:
    """Decorate a page layout or callback: a viewer's error raised inside it returns
    ``render(message)`` (the Chinese message) instead; any other exception is raised."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 — a viewer's bad input becomes a Chinese message, bugs still raise
                message = user_message(exc)
                if message is None:
                    raise
                return render(message)

        return inner  # type: ignore[return-value]

    return wrap


def page_notice(title: str, prefix: str) -> Callable[[F], F]:
    """Decorate a page layout: a viewer's error shows the page ``title`` with the message in
    its error banner (``{prefix}-error``)."""
    return user_notice(lambda message: create_error_page(title, message, prefix))
