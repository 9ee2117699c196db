"""The colour tokens: one source, generated files kept current, and no client keeping a copy."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from palette import PaletteError, load_palette, parse_palette, rgba
from palette.generate import ROOT, render, stale, write

TOKENS = (ROOT / "palette" / "tokens.toml").read_text(encoding="utf-8")
# the files that paint: the pages' and the wall's CSS and JS, the Python clients
CLIENTS = [*ROOT.glob("assets/*.css"), *ROOT.glob("assets/screen/*.css"), *ROOT.glob("assets/screen/*.js"),
           *ROOT.glob("components/*.py"), *ROOT.glob("pages/*.py"), *ROOT.glob("briefing/*.py"),
           *ROOT.glob("metrics/*.py")]
GENERATED = {ROOT / path for path in render()}


def test_the_generated_css_is_current_and_the_check_command_says_so():
    assert stale() == []
    done = subprocess.run([sys.executable, "-m", "palette", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_check_fails_on_a_changed_token_until_the_files_are_written(tmp_path):
    (tmp_path / "assets" / "screen").mkdir(parents=True)
    assert write(tmp_path) == ["assets/tokens.css", "assets/screen/tokens.css"]
    assert stale(tmp_path) == []
    changed = parse_palette(TOKENS.replace('primary = "#1f4e9c"', 'primary = "#123456"'))
    assert stale(tmp_path, changed) == ["assets/tokens.css"]  # the wall has no 'primary'
    assert write(tmp_path, changed) == ["assets/tokens.css"]
    assert "--primary: #123456;" in (tmp_path / "assets" / "tokens.css").read_text(encoding="utf-8")
    assert stale(tmp_path, changed) == []


def test_the_css_variables_are_the_tokens():
    css = render()
    p = load_palette()
    assert "--primary: #1f4e9c;" in css["assets/tokens.css"] and "--print-navy: #1f3a68;" in css["assets/tokens.css"]
    for rag in ("green", "amber", "red", "none"):
        assert f"--{rag}: {p.light[rag]};" in css["assets/tokens.css"]
        assert f"--{rag}: {p.screen[rag]};" in css["assets/screen/tokens.css"]
    assert "--funnel-6: #5cdbd3;" in css["assets/screen/tokens.css"]


def test_no_client_keeps_its_own_copy_of_a_token():
    p = load_palette()
    values = {v for t in p.themes.values() for v in [*t.colours.values(), *(c for vs in t.lists.values() for c in vs)]
              if v.startswith("#") and v != "#ffffff"}
    copies = []
    for f in CLIENTS:
        if f in GENERATED:
            continue
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            copies += [f"{f.relative_to(ROOT)}:{n} {c}" for c in re.findall(r"#[0-9a-fA-F]{6}\b", line)
                       if c.lower() in values]
    assert copies == []


def test_the_plotly_templates_and_the_briefing_are_painted_from_the_tokens():
    from briefing import charts, slides
    from components.theme import RAG_COLOURS, TEMPLATE

    p = load_palette()
    assert list(TEMPLATE.layout.colorway) == list(p.light.list("colorway"))
    assert {"green": p.light["green"], "amber": p.light["amber"], "red": p.light["red"],
                           None: p.light["none"]} == RAG_COLOURS
    assert list(charts.TEMPLATE.layout.colorway) == list(p.print.list("colorway"))
    assert str(slides.NAVY) == p.print["navy"][1:].upper()


def test_a_malformed_palette_is_refused_in_chinese():
    with pytest.raises(PaletteError, match="缺少 RAG 颜色"):
        parse_palette(TOKENS.replace('red = "#d64541"\n', ""))
    with pytest.raises(PaletteError, match="#rrggbb"):
        parse_palette(TOKENS.replace('primary = "#1f4e9c"', 'primary = "blue"'))
    assert rgba("#1f4e9c", 0.22) == "rgba(31,78,156,0.22)"


def test_the_wall_and_the_pages_link_their_generated_variables():
    assert '<link rel="stylesheet" href="/assets/screen/tokens.css">' in (
        ROOT / "assets" / "screen" / "index.html").read_text(encoding="utf-8")
    for f in (ROOT / "web" / "auth.py", ROOT / "web" / "hardening.py"):  # pages served outside Dash
        assert "/assets/tokens.css" in Path(f).read_text(encoding="utf-8")
