"""The cards' sparkline: an SVG image drawn on the server (no Plotly chart in the browser)."""

from urllib.parse import unquote

from components.sparkline import create_sparkline, sparkline_svg
from components.theme import RAG_COLOURS


def test_points_span_zero_to_the_highest_value_and_gaps_stay_gaps():
    svg = sparkline_svg([10.0, 20.0, None, 40.0, 30.0], "#c00", "rgba(1,2,3,0.1)")
    # x: 4 steps over 120 → 30 apart; y: 0…40 over 36 − 2×2 → 0.8 per unit, from y = 2 at 40
    assert '<polyline points="0.00,26.00 30.00,18.00"' in svg
    assert '<polyline points="90.00,2.00 120.00,10.00"' in svg
    # each stretch is filled down to zero (y = 34), and nothing joins across the gap
    assert '<polygon points="0.00,34.00 0.00,26.00 30.00,18.00 30.00,34.00"' in svg
    assert svg.count("<polyline") == 2 and "60.00," not in svg


def test_negative_values_put_zero_inside_the_range():
    svg = sparkline_svg([-10.0, 10.0], "#c00", "none")
    assert '<polyline points="0.00,34.00 120.00,2.00"' in svg
    assert '<polygon points="0.00,18.00 0.00,34.00 120.00,2.00 120.00,18.00"' in svg


def test_no_line_without_two_consecutive_months():
    for values in ([], [None, None], [5.0], [1.0, None, 2.0], [float("nan"), 3.0]):
        assert "<polyline" not in sparkline_svg(values, "#c00", "none")


def test_the_card_image_is_a_data_uri_in_the_rag_colour():
    img = create_sparkline([1.0, 2.0, 3.0], rag="red")
    assert img.className == "kpi-spark"
    assert img.src.startswith("data:image/svg+xml,")
    svg = unquote(img.src.split(",", 1)[1])
    assert f'stroke="{RAG_COLOURS["red"]}"' in svg and "<script" not in svg
