"""One display model, three clients: the card (components/cards.py), the wall's JSON
(metrics/screen_view.py, what /api/screen sends and screen.js places verbatim) and the briefing's
sentences (briefing/narrative.py) say the same numbers, targets, changes and RAG.

Property tests feed the same model to the three renderers; the last tests pin the issue's case
(province, 2026-10, 累计: one exact gap, rounded once, reads the same everywhere) on the demo database.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefing import narrative
from components.cards import create_kpi_card
from components.spending_charts import create_spending_card
from metrics.catalogue import load_catalogue
from metrics.display import KpiDisplay, kpi_display
from metrics.screen_view import _card
from tests.components.test_cards import find, texts

CAT = load_catalogue()
NUMBER = re.compile(r"\d+(?:\.\d+)?")
# values around the rounding edges (x.x5, 0.05, 9999.5, 1万) as well as anywhere
EDGES = st.sampled_from([0.0, 0.04, 0.05, 0.049999, 0.95, 29.65, 29.658, 53.675, 83.3333, 99.95, 9999.5, 10000.0,
                         12345.6, 123456.0])
MAGNITUDE = st.one_of(EDGES, st.floats(min_value=0, max_value=2e6, allow_nan=False, allow_infinity=False))
SIGNED = st.one_of(EDGES, EDGES.map(lambda x: -x),
                   st.floats(min_value=-500, max_value=500, allow_nan=False, allow_infinity=False))


@st.composite
def results(draw) -> dict:
    """A KPI result as the engine or a view hands it to the display model."""
    kpi = draw(st.sampled_from(sorted(CAT.kpis.values(), key=lambda k: k.id)))
    value = draw(st.one_of(st.none(), SIGNED if kpi.type == "gap" else MAGNITUDE))
    if kpi.type == "gap":
        target = 0.0
    elif kpi.target_mode == "time_progress":
        target = draw(st.integers(1, 12)) / 12 * 100
    else:
        target = draw(st.one_of(st.none(), st.just(0.0), MAGNITUDE))
    change = st.one_of(st.none(), SIGNED)
    return {"kpi_id": kpi.id, "value": value, "target": target, "mom_change": draw(change),
            "yoy_change": draw(change), "rag": draw(st.sampled_from(["green", "amber", "red", None])),
            "period": draw(st.sampled_from(kpi.periods)), "period_name": "累计", "period_label": "2026年1—10月",
            "as_of": "2026-10"}


def _plain(text: str) -> str:
    """A display text in the prose register: no spaces, no thousands separators, no leading +."""
    return text.replace(" ", "").replace(",", "").lstrip("+")


def _agree(text: str, words: str) -> None:
    """The card's text and the briefing's words are one rounding of one number: the same digits,
    or, for a count of 1万 or more (prose says 12.3万件), the same number to within 0.05万."""
    if "万" not in words or "万元" in words:
        assert _plain(text) == words
        return
    shown = float(NUMBER.findall(_plain(text))[0])
    said = float(re.search(r"(\d+(?:\.\d+)?)万", words).group(1)) * 10000
    assert said == pytest.approx(shown, abs=500.001)
    assert _plain(text).replace(NUMBER.findall(_plain(text))[0], "") == re.sub(r"\d+(?:\.\d+)?万", "", words)


def _rendered(d: KpiDisplay) -> tuple:
    card = create_kpi_card(d)
    wall = orjson.loads(orjson.dumps(_card(d)))  # what /api/screen sends
    return card, wall, narrative.kpi_sentence(d)


def _chip(card, name: str) -> str:
    return next("".join(texts(c)) for c in find(card, "kpi-delta ") if "".join(texts(c)).startswith(name))


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(results())
def test_the_value_is_rounded_once_and_reads_the_same_in_every_client(result):
    d = kpi_display(result)
    card, wall, sentence = _rendered(d)
    assert "".join(texts(find(card, "kpi-value")[0])) == wall["value_text"] == d.value_text
    if d.value is None:
        assert sentence == f"{d.name}暂无数据" and d.value_text == "—"
        return
    assert sentence.startswith(d.name) and d.value_words in sentence
    _agree(d.value_text, d.value_words)  # the same digits, only the spacing differs


@PROPERTY
@given(results())
def test_target_rag_and_period_are_the_models_on_the_card_and_the_wall(result):
    d = kpi_display(result)
    card, wall, _ = _rendered(d)
    t = texts(card)
    assert d.target_text in t and wall["target_text"] == d.target_text
    assert d.rag_label in t and wall["rag_label"] == d.rag_label
    assert card.className.split()[1] == f"kpi-card--{d.rag_token}" and wall["rag_token"] == d.rag_token
    if d.target_kind == "zero":
        assert d.target_text == "目标：清零"


@PROPERTY
@given(results())
def test_a_change_says_the_same_direction_and_amount_in_every_client(result):
    d = kpi_display(result)
    card, wall, sentence = _rendered(d)
    ch = d.change
    chip = _chip(card, ch.name)
    assert chip == f"{ch.name} {wall['change_text']}"  # the wall shows the card's words for its one change
    assert wall["change_tone"] == ch.tone and f"kpi-delta--{ch.tone}" in find(card, "kpi-delta ")[
        0 if ch.name == "环比" else 1].className
    if d.value is None:
        return
    words = ch.words
    if ch.direction is None:
        assert words is None
    elif ch.direction == 0:
        assert chip.endswith("持平") and "持平" in sentence
    else:
        assert words in sentence
        assert NUMBER.findall(chip)[-1] == NUMBER.findall(words)[-1]  # one rounding
        up = ch.direction > 0
        assert (("▲" in chip) == up) and (("提高" in words or "增加" in words) == up)


@PROPERTY
@given(results())
def test_the_gap_to_target_is_the_same_number_on_the_spending_card_and_in_the_briefing(result):
    d = kpi_display(result)
    sentence = narrative.kpi_sentence(d)
    if d.gap_words is None:
        assert d.gap_text is None
        return
    assert d.gap_words in sentence
    _agree(d.gap_text, d.gap_words)
    if d.target_kind == "time_progress":
        assert d.gap_text in texts(create_spending_card(d, card_id="x"))


@PROPERTY
@given(results())
def test_the_briefings_problem_line_and_the_card_give_the_same_status(result):
    d = kpi_display(result)
    b = SimpleNamespace(problems={"red": [{"display": d}]}, child_level=None)
    line = narrative.problem_lines(b)[0]
    assert line.startswith(f"{d.name}{d.value_words}") and line.endswith(f"（{d.rag_label}）。")
    assert d.rag_label in texts(create_kpi_card(d))


# ------------------------------------------------------------------ the case, on the demo

MONTH = "2026-10"


@pytest.fixture
def demo(demo_env, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "display-cache"))
    monkeypatch.delenv("COCKPIT_VIEWER_SCOPE", raising=False)
    return demo_env


def test_the_province_gap_to_time_progress_reads_30_2_on_the_card_the_wall_and_in_the_briefing(demo):
    # the case read 29.7 on the card and 29.6 in the briefing (rounded values subtracted); the
    # demo's projects now follow 第三十条 (试运行 ≥ 6 months), which moved this figure to −30.239
    from flask import Flask, g

    from briefing.content import briefing_content
    from data.scope import Scope
    from metrics.engine import kpi_value
    from metrics.spending_view import spending_cards
    from web.screen_routes import register_screen_routes
    from web.session import system_viewer

    scope = Scope.province("360000")
    r = kpi_value("budget_execution_rate", "360000", MONTH, "ytd", scope=scope)
    assert r.gap == pytest.approx(-30.239, abs=5e-4)  # the engine's exact gap
    assert (round(r.value, 3), round(r.target, 3)) == (53.094, 83.333)

    # the 资金 page's cards: the note under 预算执行率, and the 与序时进度差 card
    cards = {c["kpi_id"]: kpi_display(c) for c in spending_cards("360000", MONTH, scope=scope)}
    assert "低于序时进度 30.2 个百分点" in texts(create_spending_card(cards["budget_execution_rate"], card_id="x"))
    assert cards["execution_gap_pp"].value_text == "-30.2 个百分点"

    # the wall, through /api/screen
    server = Flask(__name__)
    viewer = system_viewer(scope, "测试")
    server.before_request(lambda: setattr(g, "cockpit_viewer", viewer))
    register_screen_routes(server)
    doc = server.test_client().get("/api/screen?region=360000&kpi=budget_execution_rate").get_json()
    assert doc["spending"]["gap_text"] == "低于序时进度 30.2 个百分点"
    budget = next(c for c in doc["cards"] if c["kpi"] == "budget_execution_rate")
    assert (budget["value_text"], budget["target_text"]) == ("53.1%", "序时进度 83.3%")

    # the briefing
    b = briefing_content("360000", MONTH, scope=scope)
    text = "".join(b.paragraphs + b.problem_lines)
    assert "低于序时进度30.2个百分点" in text


def test_the_same_count_to_clear_reads_目标_清零_on_the_card_and_the_wall(demo):
    from data.scope import Scope
    from metrics.dashboard import overview_data
    from metrics.screen_view import screen_data

    scope = Scope.province("360000")
    ov = overview_data("360000", MONTH, "ytd", "online_handling_rate", scope=scope)
    row = next(c for c in ov["cards"] if c["kpi_id"] == "overdue_projects")
    assert "目标：清零" in texts(create_kpi_card(kpi_display(row)))
    wall = next(c for c in screen_data("360000", "online_handling_rate", scope=scope)["cards"]
                if c["kpi"] == "overdue_projects")
    assert wall["target_text"] == "目标：清零"
