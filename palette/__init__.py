"""The cockpit's colour tokens (``palette/tokens.toml``), typed: one theme per client.

``light`` paints the Dash pages, ``screen`` the wall, ``print`` the briefing. Nothing here
imports Dash or Plotly, so the metric layer (the wall's payload) and the briefing read it too.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

TOKENS_FILE = Path(__file__).with_name("tokens.toml")
THEMES = ("light", "screen", "print")
RAG_TOKENS = ("green", "amber", "red", "none")
_HEX = re.compile(r"^#[0-9a-f]{6}$")


class PaletteError(ValueError):
    """tokens.toml is malformed (a missing RAG colour, a colour that is not a colour)."""


@dataclass(frozen=True)
class Theme:
    """One client's colours by token name (``theme["primary"]``) and lists (``theme.list("funnel")``)."""

    name: str
    colours: Mapping[str, str]
    lists: Mapping[str, tuple[str, ...]]

    def __getitem__(self, token: str) -> str:
        try:
            return self.colours[token]
        except KeyError:
            raise PaletteError(f"配色 {self.name} 没有颜色 {token}") from None

    def list(self, token: str) -> tuple[str, ...]:
        try:
            return self.lists[token]
        except KeyError:
            raise PaletteError(f"配色 {self.name} 没有色阶 {token}") from None

    def rag(self, rag: str | None) -> str:
        """The colour of a RAG status (None: the no-status grey)."""
        return self[rag if rag in RAG_TOKENS else "none"]

    def to_dict(self) -> dict:
        """Plain JSON: token → colour, list → colours (the wall's palette in /api/screen)."""
        return {**self.colours, **{k: list(v) for k, v in self.lists.items()}}


@dataclass(frozen=True)
class Palette:
    fonts: Mapping[str, str]
    themes: Mapping[str, Theme]

    @property
    def light(self) -> Theme:
        return self.themes["light"]

    @property
    def screen(self) -> Theme:
        return self.themes["screen"]

    @property
    def print(self) -> Theme:
        return self.themes["print"]


def _colour(theme: str, token: str, value) -> str:
    if not isinstance(value, str) or not (_HEX.match(value) or value.startswith("rgba(")):
        raise PaletteError(f"配色 {theme}.{token} 应为 #rrggbb（小写）或 rgba(…)，实为 {value!r}")
    return value


def _theme(name: str, raw: dict) -> Theme:
    colours, lists = {}, {}
    for token, value in raw.items():
        if isinstance(value, list):
            lists[token] = tuple(_colour(name, token, v) for v in value)
        else:
            colours[token] = _colour(name, token, value)
    missing = [t for t in RAG_TOKENS if t not in colours]
    if missing:
        raise PaletteError(f"配色 {name} 缺少 RAG 颜色：{'、'.join(missing)}")
    return Theme(name, MappingProxyType(colours), MappingProxyType(lists))


def parse_palette(text: str) -> Palette:
    """A palette from the text of a tokens file (validated)."""
    raw = tomllib.loads(text)
    missing = [t for t in THEMES if t not in raw]
    if missing:
        raise PaletteError(f"tokens.toml 缺少配色：{'、'.join(missing)}")
    return Palette(fonts=MappingProxyType(dict(raw.get("font", {}))),
                   themes=MappingProxyType({t: _theme(t, raw[t]) for t in THEMES}))


@cache
def load_palette() -> Palette:
    """The palette of ``palette/tokens.toml`` (read once per process)."""
    return parse_palette(TOKENS_FILE.read_text(encoding="utf-8"))


def rgba(colour: str, alpha: float) -> str:
    """``#1f4e9c`` at ``alpha`` as ``rgba(31,78,156,0.22)`` (a translucent fill of a token)."""
    if not _HEX.match(colour):
        raise PaletteError(f"只有 #rrggbb 颜色可以加透明度，实为 {colour!r}")
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha:g})"
