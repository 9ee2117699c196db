"""PageState and Month: a page's query string parsed once, the month as a real type."""

from datetime import date

import pytest

from metrics.page_state import PageState
from metrics.periods import Month, PeriodError, parse_month


def test_a_month_parses_from_yyyy_mm_and_prints_back():
    m = Month.parse("2025-06")
    assert (m.year, m.month) == (2025, 6)
    assert str(m) == "2025-06"
    assert str(Month.parse(" 2025-6 ")) == "2025-06"
    assert m.first_day == date(2025, 6, 1)


def test_a_month_comes_from_a_date_or_a_month_too():
    assert Month.parse(date(2024, 2, 17)) == Month(2024, 2)
    assert Month.parse(Month(2024, 2)) == Month(2024, 2)
    assert parse_month(Month(2024, 2)) == date(2024, 2, 1)


def test_months_order_by_time():
    assert Month(2024, 12) < Month(2025, 1) < Month(2025, 2)


@pytest.mark.parametrize("text", ["0000-01", "2025-13", "2025-00", "garbage", "", "2025-06-01", "25-06"])
def test_a_malformed_month_raises_the_chinese_period_error(text):
    with pytest.raises(PeriodError, match=r"月份格式不正确：.*（应为 YYYY-MM，例如 2025-06）"):
        Month.parse(text)


def test_a_month_cannot_be_built_out_of_range():
    with pytest.raises(PeriodError, match="月份格式不正确"):
        Month(2025, 13)
    with pytest.raises(PeriodError, match="月份格式不正确"):
        Month(0, 1)


def test_the_month_of_the_query_string_is_typed():
    state = PageState.from_query("?region=360100&month=2025-03")
    assert state.region == "360100"
    assert state.month == Month(2025, 3)
    assert state.month_text == "2025-03"


def test_a_missing_month_is_none_so_the_view_takes_the_latest():
    assert PageState.from_query("?region=360100").month is None
    assert PageState.from_query("").month is None
    assert PageState.from_args(month=None, region="").month is None
    assert PageState.from_args().region is None


@pytest.mark.parametrize("text", ["0000-01", "2025-13", "garbage"])
def test_a_bad_month_in_the_url_is_a_period_error_when_read(text):
    state = PageState.from_args(region="360100", month=text)
    assert state.get("month") == text  # rewriting the query string does not need the month
    assert state.changed(item="SX1").query == f"?region=360100&month={text}&item=SX1"
    with pytest.raises(PeriodError, match="月份格式不正确"):
        _ = state.month


def test_anything_but_a_string_is_an_empty_query():
    assert PageState.from_query(None).params == ()
    assert PageState.from_query({"month": "2025-01"}).params == ()
    assert PageState.from_query(["?month=x"]).query == "?"


def test_empty_parameters_are_dropped_and_the_url_order_kept():
    state = PageState.from_args(region="360100", month="", period="ytd", kpi=None, level="city")
    assert state.params == (("region", "360100"), ("period", "ytd"), ("level", "city"))
    assert state.as_dict() == {"region": "360100", "period": "ytd", "level": "city"}
    assert "period" in state and "kpi" not in state


def test_links_change_one_parameter_and_keep_the_rest():
    state = PageState.from_query("?region=360100&month=2025-03&dept=D01")
    assert state.href(dept=None) == "?region=360100&month=2025-03"
    assert state.href(region="360102") == "?region=360102&month=2025-03&dept=D01"
    assert state.href(item="SX0002") == "?region=360100&month=2025-03&dept=D01&item=SX0002"
    assert state.without("month", "dept").query == "?region=360100"


def test_a_link_to_another_path_drops_an_empty_query():
    assert PageState().href("/projects") == "/projects"
    assert PageState.from_args(project="P1").href("/projects") == "/projects?project=P1"
    assert PageState.from_args(project="P1").href("/projects", project=None) == "/projects"
    assert PageState().href() == "?"


def test_the_state_is_frozen():
    state = PageState.from_args(region="360100")
    with pytest.raises(AttributeError):
        state.params = ()  # type: ignore[misc]


def test_any_parameter_name_can_be_changed_even_those_of_the_methods():
    state = PageState.from_args(**{"cls": "a", "self": "b", "path": "c"})
    assert state.changed(self="x").href(path="y") == "?cls=a&self=x&path=y"
    assert state.href("/p", cls=None) == "/p?self=b&path=c"
