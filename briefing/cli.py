"""The one briefing command line (scheduled runs):

    python -m briefing export --region 360000 --month 2025-06 --format pdf,pptx --out DIR [--scope CODE]

The older spellings run the same command, for schedules written before: ``python -m briefing
--month …`` (no subcommand) and ``python -m metrics [--scope CODE] briefing --month …``.
A bad region, a month without data or a bad format exits 2 with a Chinese message and
writes nothing.
"""

from __future__ import annotations

import argparse
import sys

from data.scope import Scope
from metrics.errors import UserError
from metrics.regions import root_region


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--region", default=None, help="6 位行政区划代码，默认全省")
    p.add_argument("--month", required=True, help="YYYY-MM，例如 2025-06")
    p.add_argument("--format", default="pdf,pptx", help="输出格式，逗号分隔：pdf,pptx")
    p.add_argument("--out", default=".", help="输出目录")
    p.add_argument("--scope", default=None, help="以该地区（及其下级）的查看范围生成，默认全省")
    return p


def run(args: argparse.Namespace) -> int:
    from briefing.charts import ChartError
    from briefing.export import export, parse_formats

    try:
        parse_formats(args.format)  # before any work: a typo must not cost a render
        scope = Scope.province(args.scope or root_region())
        result = export(args.region or scope.regions[0], args.month, args.format, args.out, scope=scope)
    except (UserError, ChartError, FileNotFoundError) as exc:  # UserError: BriefingError, FormatError, ScopeError…
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    t = result["timings"]
    for fmt, path in result["paths"].items():
        print(f"已生成 {fmt.upper()}：{path}")
    print(f"用时 {t['total']:.1f} 秒（数据 {t['content']:.1f}，图表 {t['charts']:.1f}）")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m briefing", description="月度简报（PDF、PPTX）")
    sub = p.add_subparsers(dest="command", required=True)
    add_arguments(sub.add_parser("export", help="导出月度简报（PDF、PPTX）"))
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["export", *argv]  # the form without a subcommand, as older schedules call it
    return run(build_parser().parse_args(argv))
