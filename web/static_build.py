"""The files nginx serves itself in the production mode: ``python -m web.static_build OUT [--brotli]``.

Dash serves two kinds of static file, and ``OUT`` gets exactly those, under the same URL paths:

* ``assets/…``: every file of the app's assets folder (Dash adds ``?m=<mtime>`` to the ones the
  page includes);
* ``_dash-component-suites/<package>/<path>``: every file Dash has registered for a component
  package (the scripts the page includes, their async chunks and source maps; Dash refuses any
  other path). The page names them with a fingerprint, ``name.v<version>m<mtime>.ext``, which
  nginx strips to find the file here.

Beside each compressible file a ``.gz`` (and, with ``--brotli``, a ``.br``) is written, so that
nginx serves them precompressed (``gzip_static``/``brotli_static``), never compressing per request.

``OUT`` is a symbolic link to the newest build in ``OUT.builds/``, switched with ``os.replace``:
a build killed half-way leaves the previous one served. Unchanged files reuse the previous
build's compressed copies (compressing Plotly.js with brotli takes seconds).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import pkgutil
import secrets
import shutil
import sys
import time
from pathlib import Path
from typing import TypedDict

__all__ = ["COMPRESSIBLE", "build", "index_html", "served_files"]

COMPRESSIBLE = frozenset({".js", ".css", ".map", ".json", ".geojson", ".svg", ".html", ".txt", ".xml", ".ico",
                          ".csv", ".ttf", ".otf", ".wasm"})
MIN_COMPRESS_BYTES = 256  # smaller files gain nothing from it
# brotli at quality 9 compresses Plotly.js in ~2 s to 1.20 MB; 11 takes 20-30 s for 1.08 MB: not worth
# a slower start. Source maps are only fetched by a browser's developer tools: gzip is enough.
BROTLI_QUALITY = 9
NO_BROTLI = frozenset({".map"})
MANIFEST = "manifest.json"
KEEP_BUILDS = 2  # the current one and the one before (requests in flight may still read it)


def served_files(dash_app) -> dict[str, bytes]:
    """URL path (without the leading ``/``) → the bytes Dash serves there, for every static file."""
    files: dict[str, bytes] = {}
    assets = Path(dash_app.config.assets_folder)
    if assets.is_dir():
        for path in sorted(assets.rglob("*")):
            if path.is_file() and not path.is_symlink():
                files["assets/" + path.relative_to(assets).as_posix()] = path.read_bytes()
    for package, paths in sorted(_registered_paths(dash_app).items()):
        for rel in sorted(paths):
            try:
                data = pkgutil.get_data(package, rel)  # what Dash's route reads
            except FileNotFoundError:  # registered but not shipped (a source map): Dash cannot serve it either
                continue
            if data is not None:
                files[f"_dash-component-suites/{package}/{rel}"] = data
    return files


def index_html(dash_app) -> str:
    """The page Dash serves at ``/`` (rendering it registers the packages' files)."""
    server = dash_app.server
    with server.test_request_context("/"):
        for fn in server.before_request_funcs.get(None, []):
            if getattr(fn, "__name__", "") == "_setup_server":
                fn()  # the one-time setup (pages, callbacks), without the login guard
        return dash_app.index()


def _registered_paths(dash_app) -> dict[str, set[str]]:
    index_html(dash_app)
    return {package: set(paths) for package, paths in dash_app.registered_paths.items()}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _previous(out: Path) -> tuple[Path | None, dict]:
    if not out.is_symlink():
        return None, {}
    build_dir = out.resolve()
    try:
        return build_dir, json.loads((build_dir / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return build_dir, {}


def _compress(target: Path, data: bytes, suffix: str, reuse: Path | None) -> None:
    out = target.with_name(target.name + suffix)
    if reuse is not None and reuse.is_file():
        shutil.copyfile(reuse, out)
        return
    if suffix == ".gz":
        out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    else:
        import brotli

        out.write_bytes(brotli.compress(data, quality=BROTLI_QUALITY))


class BuildSummary(TypedDict):
    """What :func:`build` wrote: file count, bytes plain/gzip/brotli (None without brotli),
    files compressed and reused from the previous build, seconds and the build directory."""

    files: int
    bytes: int
    gzip_bytes: int
    brotli_bytes: int | None
    compressed: int
    reused: int
    seconds: float
    directory: str


def build(dash_app, out: Path, *, with_brotli: bool = False) -> BuildSummary:
    """Write every static file of ``dash_app`` (and its compressed copies) under ``out``; return a summary."""
    started = time.monotonic()
    out = Path(os.path.abspath(out))
    builds = out.with_name(out.name + ".builds")
    builds.mkdir(parents=True, exist_ok=True)
    previous_dir, previous = _previous(out)
    fresh = builds / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    fresh.mkdir()
    try:
        manifest, compressed, reused = _write(dash_app, fresh, previous_dir, previous, with_brotli)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    link = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    os.symlink(os.path.relpath(fresh, out.parent), link)
    os.replace(link, out)  # atomic: nginx sees the old build or the new one
    kept = {fresh, previous_dir}
    for old_build in sorted(builds.iterdir())[:-KEEP_BUILDS]:
        if old_build not in kept:
            shutil.rmtree(old_build, ignore_errors=True)
    return {"files": len(manifest), "bytes": sum(e["bytes"] for e in manifest.values()),
            "gzip_bytes": sum(e.get("gz", e["bytes"]) for e in manifest.values()),
            "brotli_bytes": sum(e.get("br", e.get("gz", e["bytes"])) for e in manifest.values()) if with_brotli
            else None, "compressed": compressed, "reused": reused, "seconds": round(time.monotonic() - started, 1),
            "directory": str(fresh)}


def _write(dash_app, fresh: Path, previous_dir: Path | None, previous: dict,
           with_brotli: bool) -> tuple[dict[str, dict], int, int]:
    manifest: dict[str, dict] = {}
    compressed = reused = 0
    for rel, data in served_files(dash_app).items():
        target = fresh / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        digest = _digest(data)
        entry: dict = {"sha256": digest, "bytes": len(data)}
        if target.suffix.lower() in COMPRESSIBLE and len(data) >= MIN_COMPRESS_BYTES:
            same = previous_dir is not None and previous.get(rel, {}).get("sha256") == digest
            suffixes = (".gz", ".br") if with_brotli and target.suffix.lower() not in NO_BROTLI else (".gz",)
            for suffix in suffixes:
                old = previous_dir / (rel + suffix) if same else None
                _compress(target, data, suffix, old)
                if old is not None and old.is_file():
                    reused += 1
                else:
                    compressed += 1
                entry[suffix.lstrip(".")] = target.with_name(target.name + suffix).stat().st_size
        manifest[rel] = entry
    (fresh / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    for path in (fresh, *fresh.rglob("*")):  # public files, read by nginx's workers
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return manifest, compressed, reused


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m web.static_build",
                                 description="生成由 nginx 直接提供的静态文件（含预压缩的 .gz/.br）")
    ap.add_argument("out", type=Path, help="输出位置（指向最新一次生成结果的符号链接）")
    ap.add_argument("--brotli", action="store_true", help="同时生成 .br（nginx 装有 brotli_static 模块时）")
    args = ap.parse_args(argv)
    if args.out.exists() and not args.out.is_symlink():
        print(f"错误：{args.out} 已存在且不是本工具生成的符号链接", file=sys.stderr)
        return 2
    import app

    summary = build(app.app, args.out, with_brotli=args.brotli)
    mb = 2**20
    extra = f"，brotli {summary['brotli_bytes'] / mb:.1f} MB" if summary["brotli_bytes"] is not None else ""
    print(f"静态文件已生成：{summary['files']} 个，{summary['bytes'] / mb:.1f} MB"
          f"（gzip {summary['gzip_bytes'] / mb:.1f} MB{extra}），新压缩 {summary['compressed']} 个、"
          f"沿用 {summary['reused']} 个，用时 {summary['seconds']} 秒")
    return 0


if __name__ == "__main__":
    sys.exit(main())
