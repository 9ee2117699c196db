"""Render a configuration template of deploy/ for scripts/serve.sh:

    python3 deploy/render.py TEMPLATE OUT [--mode 600] KEY=VALUE...

Jinja2 (Flask's own template engine) with the KEY=VALUE pairs as variables; undefined variables are
an error, so a template and serve.sh cannot drift apart silently. OUT is replaced atomically.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import jinja2


def render(template: Path, values: dict[str, str]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(template.parent)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False)
    return env.get_template(template.name).render(**values)


def write_atomically(out: Path, text: str, mode: int) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="deploy/render.py", description="按模板生成配置文件")
    ap.add_argument("template", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--mode", default="644", help="生成文件的权限（八进制），默认 644")
    ap.add_argument("values", nargs="*", metavar="KEY=VALUE")
    args = ap.parse_intermixed_args(argv)
    values = {}
    for pair in args.values:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            print(f"错误：参数应为 KEY=VALUE：{pair}", file=sys.stderr)
            return 2
        values[key] = value
    try:
        text = render(args.template, values)
    except jinja2.TemplateError as exc:
        print(f"错误：模板 {args.template} 无法生成：{exc}", file=sys.stderr)
        return 2
    write_atomically(args.out, text, int(args.mode, 8))
    return 0


if __name__ == "__main__":
    sys.exit(main())
