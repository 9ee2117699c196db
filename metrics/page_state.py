"""A page's URL state: the query string parsed once (:class:`PageState`), then validated
against the viewer's scope and the data (:func:`resolve_state`) into what every page's
header shows (:func:`page_context`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date
from functools import cached_property
from urllib.parse import parse_qsl, urlencode

from metrics.periods import Month, PeriodError, label, period_name, windows
from metrics.regions import Region, as_of, get_region, lineage, region_tree, root_region

PAGE_PERIODS = ("ytd", "month")


@dataclass(frozen=True)
class PageState:
    """A page's URL query string, parsed once: its parameters in URL order (empty ones
    dropped), with ``region`` and ``month`` (a :class:`~metrics.periods.Month`) typed.

    ``month`` is parsed when first read and raises :class:`~metrics.periods.PeriodError`
    (Chinese) if malformed, so a callback that only rewrites the query string never fails
    on a month it does not use."""

    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_query(cls, search: object) -> PageState:
        """From ``location.search`` (``?a=1&b=2``; anything that is not a string is empty)."""
        text = search if isinstance(search, str) else ""
        return cls(tuple(dict(parse_qsl(text.lstrip("?"))).items()))

    @classmethod
    def from_args(cls, /, **values: object) -> PageState:
        """From a page layout's keyword arguments (Dash's parsed query string), in their order."""
        return cls(tuple((k, str(v)) for k, v in values.items() if v not in (None, "")))

    def get(self, name: str, default: str | None = None) -> str | None:
        """The parameter ``name`` as written in the URL (``default`` if absent)."""
        return dict(self.params).get(name, default)

    def __contains__(self, name: object) -> bool:
        return any(k == name for k, _ in self.params)

    @property
    def region(self) -> str | None:
        """The region code asked for (None: the top of the viewer's scope)."""
        return self.get("region")

    @cached_property
    def month(self) -> Month | None:
        """The month asked for (None: the latest); PeriodError if malformed."""
        raw = self.get("month")
        return None if raw is None else Month.parse(raw)

    @property
    def month_text(self) -> str | None:
        """The month as the engine takes it (``YYYY-MM``), or None; PeriodError if malformed."""
        return None if self.month is None else str(self.month)

    def changed(self, /, **changes: object) -> PageState:
        """This state with ``changes`` applied (None or '' removes a parameter; new ones go last)."""
        merged = {**dict(self.params), **changes}
        return PageState.from_args(**merged)

    def without(self, *names: str) -> PageState:
        """This state without the parameters ``names``."""
        return PageState(tuple((k, v) for k, v in self.params if k not in names))

    def as_dict(self) -> dict[str, str]:
        """The parameters as a dict (URL order)."""
        return dict(self.params)

    @property
    def query(self) -> str:
        """The query string, ``?a=1&b=2`` (``?`` alone when empty)."""
        return "?" + urlencode(self.params)

    def href(self, path: str = "", /, **changes: object) -> str:
        """A link to ``path`` (default: this page) with ``changes`` applied; ``path`` alone if
        nothing is left and a path is given."""
        state = self.changed(**changes) if changes else self
        if path and not state.params:
            return path
        return path + state.query


class DictAccess:
    """Read a frozen dataclass as a mapping too (``ctx["region"]``, ``{**ctx}``, ``"x" in ctx``),
    for the views and components that still take the page's state as a dict. Only ``keys``,
    ``get`` and item access are provided: a view may have a field named ``items``."""

    def __getitem__(self, name: str):
        if name not in self.keys():
            raise KeyError(name)
        return getattr(self, name)

    def __contains__(self, name: object) -> bool:
        return name in self.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> tuple[str, ...]:
        """The field names, in declaration order."""
        return tuple(f.name for f in fields(self))  # type: ignore[arg-type]

    def get(self, name: str, default=None):
        """The field ``name``, or ``default`` if there is none."""
        return getattr(self, name) if name in self.keys() else default


@dataclass(frozen=True)
class ResolvedState:
    """URL state checked against the scope and the data: the region, the month (the latest
    if none was asked for), the period, the data's first and last months and the root."""

    region: Region
    month: date
    period: str
    first: date
    last: date
    root: str


@dataclass(frozen=True)
class PageContext(DictAccess):
    """What every page's header shows: the region and its lineage, the picker options, the
    month and period with their Chinese labels, and the data's as-of month.

    A page's view extends it with what the page draws (``OverviewData``, ``ServicesPage``,
    ``ProjectsPage``, ``TasksPage``, ``RankingPage``), so the view is also the header that
    ``components.shell.create_page_top`` takes; ``SpendingPage`` and ``ForecastPage`` sit beside it."""

    region: str
    region_name: str
    level: str
    province: str
    lineage: list
    regions: list
    month: str  # YYYY-MM, as the engine takes it
    months: tuple[date, date]
    period: str
    period_name: str
    period_label: str
    as_of: str
    month_start: date  # the month's first day, as the views compute with it


def resolve_state(region, month, period, *, scope) -> ResolvedState:
    """Validate URL state: region (default: the top of the scope), month (a ``Month`` or
    ``YYYY-MM``; default: the latest), period."""
    first, last = as_of()
    root = root_region()
    code = region or (scope.regions[0] if len(scope.regions) == 1 else root)
    reg = get_region(code, scope=scope)
    m = Month.parse(month).first_day if month else last
    if period not in PAGE_PERIODS:
        raise PeriodError(f"未知的统计期：{period!r}（可选：累计 ytd、当月 month）")
    return ResolvedState(region=reg, month=m, period=period, first=first, last=last, root=root)


def page_context(region, month, period, *, scope, periods=PAGE_PERIODS) -> PageContext:
    """The header of a page at ``region``, ``month`` and ``period`` (a period the page does
    not offer falls back to its first)."""
    st = resolve_state(region, month, period if period in periods else periods[0], scope=scope)
    reg, m = st.region, st.month
    return PageContext(
        region=reg.code,
        region_name=reg.name,
        level=reg.level,
        province=st.root,
        lineage=lineage(reg.code, scope=scope),
        regions=region_tree(scope=scope),
        month=m.strftime("%Y-%m"),
        months=(st.first, st.last),
        period=st.period,
        period_name=period_name(st.period),
        period_label=label(st.period, windows(st.period, m).cur.capped(st.last)),
        as_of=st.last.strftime("%Y-%m"),
        month_start=m,
    )
