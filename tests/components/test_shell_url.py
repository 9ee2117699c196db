"""The shell's URL callbacks write the query string through PageState (one parser)."""

import json

import pytest
from dash import no_update
from dash._callback_context import context_value
from dash._utils import AttributeDict

from components import shell


def _triggered(trigger: dict, inputs_list=()):
    prop = json.dumps(trigger, sort_keys=True, separators=(",", ":"))
    context_value.set(AttributeDict(triggered_inputs=[{"prop_id": f"{prop}.value", "value": None}],
                                    inputs_list=list(inputs_list), states_list=[]))


def _param(name):
    return {"type": "url-param", "name": name}


def _sync(name, values, rendered, search):
    _triggered(_param(name))
    names = list(values)
    return shell.sync_url([values[n] for n in names], [_param(n) for n in names],
                          [rendered[n] for n in names], [{"type": "url-param-rendered", "name": n} for n in names],
                          search)


def test_a_changed_control_rewrites_its_parameter_in_place():
    new = _sync("month", {"month": "2025-06", "period": "ytd"}, {"month": "2025-05", "period": "ytd"},
                "?region=360100&month=2025-05&kpi=x")
    assert new == "?region=360100&month=2025-06&kpi=x"


def test_a_cleared_control_removes_its_parameter_and_a_new_one_goes_last():
    assert _sync("dept", {"dept": None}, {"dept": "D01"}, "?region=360100&dept=D01") == "?region=360100"
    assert _sync("dept", {"dept": ["D01", "D02"]}, {"dept": None}, "?region=360100") == "?region=360100&dept=D01%2CD02"


def test_a_mounting_control_with_its_rendered_value_changes_nothing():
    assert _sync("month", {"month": "2025-05"}, {"month": "2025-05"}, "?month=2025-05") is no_update


@pytest.mark.parametrize("search", [None, 7, ["?a=1"]])
def test_a_malformed_location_reads_as_empty(search):
    assert _sync("month", {"month": "2025-06"}, {"month": None}, search) == "?month=2025-06"


def test_a_click_puts_the_code_into_its_parameter():
    trigger = {"type": "url-click", "name": "region", "graph": "overview-map"}
    _triggered(trigger, [[{"id": trigger, "property": "clickData"}]])
    click = {"points": [{"customdata": ["360102", "东湖区"]}]}
    assert shell.click_to_url([click], "?region=360100&month=2025-06") == "?region=360102&month=2025-06"
    assert shell.click_to_url([{"points": [{"customdata": [{"x": 1}]}]}], "?a=1") is no_update


def test_the_breadcrumb_links_keep_the_rest_of_the_state():
    from types import SimpleNamespace as R

    nav = shell.create_breadcrumb([R(code="360000", name="江西省"), R(code="360100", name="南昌市")],
                                  {"month": "2025-06", "region": "360100", "kpi": None}, "ov")
    link = nav.children[0]
    assert link.href == "?month=2025-06&region=360000"
