"""Command line for scheduled runs:

    python -m briefing --region 360000 --month 2025-06 --format pdf,pptx --out DIR
    python -m metrics briefing --region 360000 --month 2025-06 --format pdf,pptx --out DIR

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


def main(argv: list[str] | None = None) -> int:
    p = add_arguments(argparse.ArgumentParser(prog="python -m briefing", description="月度简报导出（PDF、PPTX）"))
    return run(p.parse_args(argv))
