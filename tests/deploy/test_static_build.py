"""``python -m web.static_build``: every static URL the page names maps (fingerprint stripped, as nginx
does) to a file with the bytes Dash serves, with compressed copies beside it; the output switches
atomically and an unchanged rebuild compresses nothing again."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import brotli
import pytest
from dash.fingerprint import check_fingerprint

import app
from tests.auth_helpers import anonymous_client
from web import static_build

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("static") / "static"
    summary = static_build.build(app.app, out, with_brotli=True)
    return out, summary


def _page_urls() -> list[str]:
    html = static_build.index_html(app.app)  # what Dash's route at / answers a logged-in viewer
    return re.findall(r'(?:src|href)="(/(?:assets|_dash-component-suites)/[^"]+)"', html)


def _nginx_path(url: str) -> str:
    """What nginx's locations look up for ``url`` (deploy/nginx.conf.j2)."""
    path = url.split("?", 1)[0].lstrip("/")
    if path.startswith("_dash-component-suites/"):
        path, _ = check_fingerprint(path)
    return path


def test_every_static_url_of_the_page_is_a_built_file_with_dashs_bytes(built):
    out, _ = built
    urls = _page_urls()
    assert any("dash_renderer" in u for u in urls) and any(u.startswith("/assets/cockpit.css?m=") for u in urls)
    client = anonymous_client(app.server)  # these files are public: no login, no database
    for url in urls:
        file = out / _nginx_path(url)
        assert file.is_file(), url
        with client.get(url, headers={"Accept-Encoding": "identity"}) as served:
            assert served.status_code == 200, url
            assert file.read_bytes() == served.get_data(), url


def test_compressible_files_have_gzip_and_brotli_copies_of_the_same_bytes(built):
    out, summary = built
    renderer = next(out.rglob("dash_renderer.min.js"))
    assert gzip.decompress(renderer.with_name(renderer.name + ".gz").read_bytes()) == renderer.read_bytes()
    assert brotli.decompress(renderer.with_name(renderer.name + ".br").read_bytes()) == renderer.read_bytes()
    source_map = next(out.rglob("*.js.map"))
    assert source_map.with_name(source_map.name + ".gz").is_file()
    assert not source_map.with_name(source_map.name + ".br").exists()  # only developer tools read maps
    assert summary["gzip_bytes"] < summary["bytes"] / 3


def test_the_async_chunks_dash_registers_are_built_too(built):
    out, _ = built
    suites = out / "_dash-component-suites"
    assert (suites / "dash" / "dcc" / "async-graph.js").is_file()
    assert (suites / "plotly" / "package_data" / "plotly.min.js").is_file()


def test_a_rebuild_switches_the_link_and_reuses_the_compressed_copies(built):
    out, _ = built
    first = out.resolve()
    again = static_build.build(app.app, out, with_brotli=True)
    assert again["compressed"] == 0 and again["reused"] > 50
    assert out.is_symlink() and out.resolve() != first
    assert first.is_dir()  # the build before stays for requests in flight


def test_the_command_refuses_an_existing_directory_it_did_not_make(tmp_path):
    (tmp_path / "static").mkdir()
    done = subprocess.run([sys.executable, "-m", "web.static_build", str(tmp_path / "static")], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "不是本工具生成的符号链接" in done.stderr
