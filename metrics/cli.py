"""Command line for planners and operators: ``python -m metrics <command>``.

    python -m metrics list
    python -m metrics show online_handling_rate --region 360000 --month 2025-06 --period ytd --json
    python -m metrics children online_handling_rate --region 360000 --month 2025-06
    python -m metrics series online_handling_rate --region 360100 --start 2025-01 --cumulative
    python -m metrics alerts --region 360000 --month 2025-06
    python -m metrics index --region 360000 --level county --month 2025-06
    python -m metrics briefing …   (the same as python -m briefing export …)
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from data.scope import Scope
from metrics.catalogue import load_catalogue
from metrics.composite import composite_index
from metrics.engine import kpi_children, kpi_series, kpi_value
from metrics.errors import USER_ERRORS
from metrics.format import fmt_change, fmt_value, rag_label
from metrics.periods import PERIODS
from metrics.regions import as_of, root_region
from metrics.rules import project_alerts

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (*USER_ERRORS, FileNotFoundError, LookupError, ValueError)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m metrics", description="领导驾驶舱指标引擎")
    p.add_argument("--scope", default=None, help="以该地区（及其下级）的查看范围运行，默认全省")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="列出指标目录").add_argument("--json", action="store_true")

    def common(sp, kpi=True, period=True):
        if kpi:
            sp.add_argument("kpi")
        sp.add_argument("--region", default=None, help="6 位行政区划代码，默认全省")
        sp.add_argument("--month", default=None, help="YYYY-MM，默认数据最新月份")
        if period:
            sp.add_argument("--period", default="ytd", choices=PERIODS)
        sp.add_argument("--dept", default=None)
        sp.add_argument("--json", action="store_true")
        return sp

    common(sub.add_parser("show", help="一个地区的指标值")).add_argument("--item", default=None)
    common(sub.add_parser("children", help="下级地区的指标值与排名"))
    s = common(sub.add_parser("series", help="月度序列"), period=False)
    s.add_argument("--start", default=None)
    s.add_argument("--cumulative", action="store_true", help="累计（年初至当月）")
    common(sub.add_parser("alerts", help="项目预警"), kpi=False, period=False)
    i = common(sub.add_parser("index", help="综合评估指数"), kpi=False, period=False)
    i.add_argument("--level", default="county", choices=["city", "county"])
    # kept for older schedules: its arguments are python -m briefing export's (briefing/cli.py)
    sub.add_parser("briefing", help="月度简报导出，同 python -m briefing export", add_help=False)
    return p


def _emit(df: pd.DataFrame, as_json: bool) -> None:
    if as_json:
        print(df.to_json(orient="records", force_ascii=False, date_format="iso"))
    else:
        with pd.option_context("display.max_rows", 500, "display.width", 200):
            print(df.to_string(index=False))


def run(args: argparse.Namespace) -> None:
    cat = load_catalogue()
    if args.command == "list":
        rows = [{"id": k.id, "名称": k.name, "单位": k.unit, "方向": "越高越好" if k.higher_is_better else "越低越好",
                 "目标": k.target, "口径": k.caliber, "依据": k.source} for k in cat.kpis.values()]
        _emit(pd.DataFrame(rows), args.json)
        return
    region = args.region or root_region()
    scope = Scope.province(args.scope or root_region())
    month = args.month or as_of()[1].strftime("%Y-%m")
    if args.command == "show":
        r = kpi_value(args.kpi, region, month, args.period, scope=scope, dept=args.dept, item=args.item)
        if args.json:
            print(json.dumps(r.to_dict(), ensure_ascii=False))
            return
        print(f"{r.region_name} {r.period_label}（{r.period_name}） {r.name}：{fmt_value(r.value, r.unit)}")
        print(f"  分子 {fmt_value(r.numerator, '')}  分母 {fmt_value(r.denominator, '')}")
        print(f"  环比 {fmt_change(r.mom_change, r.change_unit)}  同比 {fmt_change(r.yoy_change, r.change_unit)}")
        print(f"  目标 {fmt_value(r.target, r.unit)}（{r.target_source or '无'}）  {rag_label(r.rag)}")
        if r.rank:
            print(f"  在同级地区中排名第 {r.rank} / {r.rank_of}")
        print(f"  数据截至 {r.as_of}")
    elif args.command == "children":
        _emit(kpi_children(args.kpi, region, month, args.period, scope=scope, dept=args.dept), args.json)
    elif args.command == "series":
        _emit(kpi_series(args.kpi, region, scope=scope, start=args.start, end=month,
                         cumulative=args.cumulative, dept=args.dept), args.json)
    elif args.command == "alerts":
        _emit(project_alerts(region, month, scope=scope), args.json)
    elif args.command == "index":
        _emit(composite_index(region, args.level, month, scope=scope), args.json)


def main(argv: list[str] | None = None) -> int:
    args, rest = _parser().parse_known_args(argv)
    if args.command == "briefing":  # lazy: the export's heavy imports stay out of the other commands
        from briefing.cli import main as briefing_main

        return briefing_main(["export", *(["--scope", args.scope] if args.scope else []), *rest])
    args = _parser().parse_args(argv)  # every other command: unknown arguments are errors
    try:
        run(args)
    except EXPECTED_ERRORS as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    return 0
