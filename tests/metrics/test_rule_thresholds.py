"""The project-rule thresholds are read from one place: change one in rules.toml, rebuild, and the
card KPI (metrics.engine) and the alert list (metrics.rules) count the same projects.

The database is the hand-built fixture with its lifecycle projects (tests/metrics/fixture_db.py),
so that every month threshold moves a count at a month worked out by hand:
  P2  approved 2024-03-01, never started        → 批复半年未开工 (not_started_months)
  P3  试运行 since 2024-06-15, no 终验            → 试运行满N个月未终验 (trial_months)
  P4  竣工验收 2023-11-10, no 绩效自评            → 绩效自评到期 / 即将到期 (self_eval_*_months)
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from data import db
from data.scope import Scope
from metrics import rule_thresholds, rules
from metrics.cache import clear_all
from metrics.engine import kpi_value
from metrics.materialize import aggregates_fresh, materialize
from metrics.results import refresh as refresh_results
from metrics.rules import project_alerts
from tests.metrics import fixture_db

PROVINCE = Scope.province("360000")
# (rule, its card KPI): every breach rule that has a count on a card
CARDS = [("not_started_6m", "not_started_6m"), ("acceptance_pending", "acceptance_pending"),
         ("self_eval_due", "self_eval_due"), ("overdue", "overdue_projects"), ("over_budget", "over_budget")]


@pytest.fixture
def thresholds_db(tmp_path, monkeypatch):
    """A private fixture database built with the shipped rules.toml; ``change(key, value)``
    points the configuration at a copy with one threshold changed."""
    monkeypatch.setattr(rules, "RULES_PATH", rules.RULES_PATH)
    rules.load_rules.cache_clear()
    path = fixture_db.build_lifecycle(tmp_path / "thresholds.duckdb")
    monkeypatch.setenv("COCKPIT_DB", str(path))
    db.reset_reader()
    clear_all()

    def change(key: str, value: int) -> None:
        text = rules.RULES_PATH.read_text(encoding="utf-8")
        line = next(x for x in text.splitlines() if x.startswith(f"{key} ="))
        changed = tmp_path / "rules.toml"
        changed.write_text(text.replace(line, f"{key} = {value}"), encoding="utf-8")
        monkeypatch.setattr(rules, "RULES_PATH", changed)
        rules.load_rules.cache_clear()

    yield path, change
    rules.load_rules.cache_clear()
    db.reset_reader()
    clear_all()


def _rebuild(path: Path) -> None:
    """What a publish (or the start-up upgrade) does to a version whose aggregates are stale."""
    with db.connect_writer(path) as con:
        materialize(con)
        refresh_results(con)  # the KPI results follow the rebuilt views, as at publish
    db.reset_reader()
    clear_all()


def _listed(rule_id: str, month: str) -> list[str]:
    a = project_alerts("360000", month, scope=PROVINCE, reminders=True)
    return sorted(a.loc[a["rule_id"] == rule_id, "project_id"])


def _card(kpi_id: str, month: str) -> float:
    return kpi_value(kpi_id, "360000", month, "month", scope=PROVINCE).value


def _assert_cards_agree_with_the_list(month: str) -> None:
    assert aggregates_fresh()  # the cards are read from the rebuilt agg_project
    for rule_id, kpi_id in CARDS:
        assert _card(kpi_id, month) == len(_listed(rule_id, month)), rule_id


CASES = [
    # threshold, new value, month, rule, its card (None: a reminder, no card), listed before, after
    ("not_started_months", 3, "2024-08", "not_started_6m", "not_started_6m", [], ["P2"]),
    ("trial_months", 3, "2024-10", "acceptance_pending", "acceptance_pending", [], ["P3"]),
    ("self_eval_to_months", 9, "2024-10", "self_eval_due", "self_eval_due", [], ["P4"]),
    ("self_eval_from_months", 12, "2024-10", "self_eval_upcoming", None, ["P4"], []),
]


def test_every_month_threshold_of_rules_toml_is_covered():
    configured = tomllib.loads(rules.RULES_PATH.read_text(encoding="utf-8"))["thresholds"]
    assert {c[0] for c in CASES} == set(rule_thresholds.MONTH_THRESHOLDS) == {
        k for k in configured if k.endswith("_months")}


@pytest.mark.parametrize("key, value, month, rule_id, kpi_id, before, after", CASES, ids=[c[0] for c in CASES])
def test_a_changed_threshold_moves_the_card_and_the_list_together(thresholds_db, key, value, month, rule_id,
                                                                   kpi_id, before, after):
    path, change = thresholds_db
    assert _listed(rule_id, month) == before
    _assert_cards_agree_with_the_list(month)

    change(key, value)
    clear_all()
    assert not aggregates_fresh()  # the staleness check notices: a publish or the next start rebuilds
    # until then both still read the file's own (old) thresholds, the cards from the raw view
    assert _listed(rule_id, month) == before
    for rule, card in CARDS:
        assert _card(card, month) == len(_listed(rule, month)), rule
    _rebuild(path)

    assert _listed(rule_id, month) == after
    if kpi_id is not None:
        assert _card(kpi_id, month) == len(after)
    _assert_cards_agree_with_the_list(month)


def test_by_hand_three_months_without_a_start_counts_p2_in_august(thresholds_db):
    path, change = thresholds_db
    # approved 2024-03-01: + 6 months is 2024-09-01, after 2024-08-31 → not yet
    assert _card("not_started_6m", "2024-08") == 0
    change("not_started_months", 3)
    _rebuild(path)
    # + 3 months is 2024-06-01: 91 days before 2024-08-31; the card counts it, the funds are recoverable
    a = project_alerts("360000", "2024-08", scope=PROVINCE, rules=["not_started_6m"])
    assert a[["project_id", "days_over"]].values.tolist() == [["P2", 91]]
    assert _card("not_started_6m", "2024-08") == 1
    assert kpi_value("recovered_funds", "360000", "2024-08", "month", scope=PROVINCE).value == 300.0


def test_the_file_holds_the_thresholds_it_was_built_with(thresholds_db):
    path, change = thresholds_db
    change("trial_months", 4)
    _rebuild(path)
    with db.connect_writer(path) as con:
        row = con.execute("SELECT not_started_months, trial_months, self_eval_from_months, self_eval_to_months"
                          " FROM rule_threshold").fetchall()
    assert row == [(6, 4, 6, 12)]


def test_the_names_say_the_months_their_counts_use(thresholds_db):
    from metrics.catalogue import load_catalogue

    path, change = thresholds_db
    try:
        load_catalogue.cache_clear()
        assert load_catalogue().kpi("not_started_6m").name == "批复满6个月未开工"
        change("not_started_months", 3)
        change("trial_months", 4)
        load_catalogue.cache_clear()
        cat = load_catalogue()
        assert cat.kpi("not_started_6m").name == "批复满3个月未开工"
        assert cat.kpi("not_started_6m").caliber == "批复满3个月仍未开工的项目数（取期末月）"
        assert cat.kpi("acceptance_pending").name == "试运行满4个月待终验"
        assert cat.kpi("recovered_funds").caliber.startswith("批复后满3个月未开工")
        assert "{" not in "".join(k.name + k.caliber for k in cat.kpis.values())
        _rebuild(path)
        # the alert list names the rule as the card names its KPI
        a = project_alerts("360000", "2024-08", scope=PROVINCE, rules=["not_started_6m"])
        assert a["rule_name"].tolist() == ["批复满3个月未开工"]
        assert rules.load_rules().rules["acceptance_pending"].name == "试运行满4个月未终验"
    finally:
        load_catalogue.cache_clear()


def test_an_unknown_slot_in_a_text_is_refused():
    with pytest.raises(ValueError, match="foo_months"):
        rules.worded("满{foo_months}个月", {"trial_months": 6})
    assert rules.worded("满{trial_months}个月，{x}", {"trial_months": 6}) == "满6个月，{x}"
