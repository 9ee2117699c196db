"""Forged requests, role by role: callback inputs and URL parameters that name a region, project,
unit, department, item, task or KPI outside the viewer's scope get zero data rows back (checked
row by row in the JSON the callbacks answer), and each denial is one audit 拒绝 entry naming
what was asked for. A province administrator making the same requests gets the rows, so the
checks are not vacuous."""

from __future__ import annotations

import pytest

import app
from data import audit, db
from tests.auth_helpers import logged_in_client
from tests.web.forge import forecast_download_body, render, rows_naming

ROLES = [("leader", "360102", None), ("analyst", "360100", None), ("dept", "360100", "D01"),
         ("reporter", "360102", None), ("admin", "360100", None)]
ELSEWHERE = "360700"  # 赣州市: outside every scope above


@pytest.fixture(scope="module")
def outside(demo_db_path):
    """Things of 赣州市 (and the province's tasks), read from the demo itself."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COCKPIT_DB", str(demo_db_path))
        db.reset_reader()
        q = db.query
        project = q("SELECT project_id, name FROM project WHERE county_code LIKE '3607%' ORDER BY project_id LIMIT 1")
        unit = q("SELECT owner_unit FROM project GROUP BY owner_unit "
                 "HAVING bool_and(county_code LIKE '3607%') ORDER BY owner_unit LIMIT 1")
        task = q("SELECT task_id, title FROM task WHERE region_code = '360000' ORDER BY task_id LIMIT 1")
        item = q("SELECT item_code, name FROM service_item WHERE dept_code = 'D02' ORDER BY item_code LIMIT 1")
        dept = q("SELECT name FROM department WHERE code = 'D02'")
        counties = q("SELECT code FROM region WHERE parent_code = '360700'")
        db.reset_reader()
    return {"project": project.iloc[0].project_id, "project_name": project.iloc[0]["name"],
            "unit": unit.iloc[0].owner_unit, "task": str(int(task.iloc[0].task_id)), "task_title": task.iloc[0].title,
            "item": item.iloc[0].item_code, "item_name": item.iloc[0]["name"], "dept_name": dept.iloc[0]["name"],
            "counties": list(counties.code)}


def _denials(actor: str) -> list[dict]:
    return audit.search(actor=actor, action="拒绝", limit=1000)


def _forged_pages(o: dict) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(page, query, the audit target, what no row may name)."""
    gz = ("赣州", ELSEWHERE, *o["counties"])
    return [
        ("/", f"?region={ELSEWHERE}", f"region={ELSEWHERE}", gz),
        ("/services", f"?region={ELSEWHERE}", f"region={ELSEWHERE}", gz),
        ("/spending", f"?region={ELSEWHERE}", f"region={ELSEWHERE}", gz),
        ("/ranking", f"?focus={ELSEWHERE}", f"focus={ELSEWHERE}", gz),
        ("/projects", f"?project={o['project']}", f"project={o['project']}", (o["project"], o["project_name"])),
        ("/spending", f"?unit={o['unit']}", f"unit={o['unit']}", (o["unit"],)),
        ("/projects", f"?unit={o['unit']}", f"unit={o['unit']}", (o["unit"],)),
        ("/tasks", f"?task={o['task']}", f"task={o['task']}", (o["task_title"],)),
        ("/forecast", f"?region={ELSEWHERE}", f"region={ELSEWHERE}", gz),
        ("/briefing", f"?region={ELSEWHERE}", f"region={ELSEWHERE}", gz),
    ]


@pytest.mark.parametrize(("role", "region", "dept"), ROLES)
def test_forged_page_inputs_return_no_rows_and_are_each_audited(role, region, dept, outside, demo_env):
    client, user = logged_in_client(app.server, role, region, dept)
    for page, query, target, names in _forged_pages(outside):
        before = len(_denials(user.username))
        resp = render(client, page, query)
        assert resp.status_code == 200, (role, page, query)
        assert rows_naming(resp.get_json(), *names) == [], (role, page, query)
        new = _denials(user.username)[: len(_denials(user.username)) - before]
        assert len(new) == 1 and new[0]["target"] == target, (role, page, query, new)


@pytest.mark.parametrize(("role", "region", "dept"), ROLES)
def test_forged_callback_state_and_api_parameters_return_no_rows(role, region, dept, outside, demo_env):
    client, user = logged_in_client(app.server, role, region, dept)
    client.get("/forecast")
    state = {"kpi": "online_handling_rate", "region": ELSEWHERE, "h": 6, "view": "month"}
    before = len(_denials(user.username))
    doc = client.post("/_dash-update-component", json=forecast_download_body(state)).get_json()
    assert doc["response"].get("forecast-download", {}).get("data") is None  # no file at all
    assert rows_naming(doc, "赣州", ELSEWHERE) == []
    api = client.get(f"/api/screen?region={ELSEWHERE}&kpi=online_handling_rate")
    assert api.status_code == 400 and rows_naming(api.get_json(), "赣州", ELSEWHERE) == []
    denials = _denials(user.username)[: len(_denials(user.username)) - before]
    assert [d["target"] for d in denials] == [f"region={ELSEWHERE}"] * 2
    if role in ("reporter", "admin"):
        export = client.get(f"/data/export/services.xlsx?month=2026-10&region={ELSEWHERE}")
        assert export.status_code == 400 and export.mimetype != "application/vnd.openxmlformats-officedocument" \
            ".spreadsheetml.sheet"
        assert _denials(user.username)[0]["target"] == f"region={ELSEWHERE}"


def test_a_department_user_cannot_name_another_department_its_items_or_kpis_without_one(outside, demo_env):
    client, user = logged_in_client(app.server, "dept", "360100", "D01")
    forged = [("/services", "?dept=D02", "dept=D02", (outside["dept_name"], "D02")),
              ("/services", f"?item={outside['item']}", f"item={outside['item']}",
               (outside["item"], outside["item_name"])),
              ("/spending", "?dept=D02", "dept=D02", (outside["dept_name"], "D02")),
              ("/", "?kpi=hotline_received", "kpi=hotline_received", ("hotline_received",))]
    for page, query, target, names in forged:
        before = len(_denials(user.username))
        resp = render(client, page, query)
        assert resp.status_code == 200
        assert rows_naming(resp.get_json(), *names) == [], (page, query)
        new = _denials(user.username)[: len(_denials(user.username)) - before]
        assert len(new) == 1 and new[0]["target"] == target, (page, query, new)
    # and the department's own view has rows (the check above is about scope, not an empty page)
    own = render(client, "/services", "?region=360100&dept=D01").get_json()
    assert rows_naming(own, "360102")


def test_a_province_administrator_gets_the_rows_the_others_were_refused(outside, demo_env):
    client, user = logged_in_client(app.server, "admin", "360000")
    for page, query, _target, names in _forged_pages(outside):
        resp = render(client, page, query)
        text = resp.get_data(as_text=True)
        assert resp.status_code == 200
        assert "无权" not in text, (page, query)
        assert any(n in text for n in names), (page, query)
        if page in ("/", "/services", "/spending", "/ranking") and ("region=" in query or "focus=" in query):
            assert rows_naming(resp.get_json(), *names), (page, query)  # maps, bars and tables of 赣州
    assert _denials(user.username) == []
