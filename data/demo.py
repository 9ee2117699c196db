"""Build the demo database: ``python -m data.demo [--db PATH] [--province 360000] …``; ``python -m
data.demo ensure`` builds it only when missing and creates the demo accounts (``scripts/start.sh``).

The output is deterministic given seed, end month, months, scale and province: no
clock, no "today". The generator produces template-shaped frames per intake family and
publishes them through the same validation and publish path as an office's uploads
(data/intake), so a failed build never leaves a half-written database behind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from data import demo_projects, demo_services
from data.db import pointer_path
from data.demo_reference import DEPARTMENTS, kpi_targets
from data.prepare import pointing_at as _pointing_at
from data.prepare import prepare_database, refresh_aggregates  # noqa: F401 — refresh_aggregates re-exported
from data.tasks import SOURCE as TASK_SOURCE
from data.tasks import reference_tasks
from metrics.materialize import aggregates_version  # noqa: F401 — re-exported for callers

GENERATOR_VERSION = "1.0.0"
DEFAULT_PROVINCE = "360000"
DEFAULT_SEED = 20231
DEFAULT_END_MONTH = "2026-10"
DEFAULT_MONTHS = 60


class DemoError(ValueError):
    """Bad parameters for the demo build (the CLI exits with code 2)."""


def load_regions(province: str) -> pd.DataFrame:
    """The region hierarchy of one province, from :mod:`data.geo`."""
    from data import geo

    try:
        regions = geo.load_regions(province)
    except geo.UnknownRegionError as exc:
        raise DemoError(f"无法生成演示数据：{exc}") from exc
    regions = regions[["code", "name", "level", "parent_code"]].reset_index(drop=True)
    if regions.empty or regions.iloc[0]["level"] != "province":
        raise DemoError(f"行政区划数据不完整：{province} 缺少省级记录")
    if not (regions["level"] == "county").any():
        raise DemoError(f"行政区划数据不完整：{province} 没有县级记录")
    return regions


def _check_params(province: str, end_month: str, months: int, scale: int) -> None:
    if not re.fullmatch(r"\d{2}0000", str(province)):
        raise DemoError(f"省级行政区划代码应为6位数字且以0000结尾：{province!r}")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(end_month)):
        raise DemoError(f"截止月份格式应为 YYYY-MM：{end_month!r}")
    if not 1 <= int(months) <= 240:
        raise DemoError(f"月份数应在 1–240 之间：{months}")
    if not 1 <= int(scale) <= 100:
        raise DemoError(f"规模倍数应在 1–100 之间：{scale}")


def data_version(params: dict) -> str:
    text = json.dumps({**params, "generator_version": GENERATOR_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# ---------------------------------------------------------------- small tables

# demo progress of the 12 tasks of 赣府厅字〔2023〕35号, as of a month after all deadlines
TASK_PROGRESS = {
    1: ("已完成", 100, "《全省数字政府建设总体方案》已按期编制完成并印发实施"),
    2: ("已完成", 100, "已发布政务数据资源目录编制、电子证照应用等5项数字政府地方标准"),
    3: ("已完成", 100, "电子政务外网骨干网升级改造完成，带宽扩容，IPv6改造全部完成，“一网双平面”建成"),
    4: ("推进中", 85, "省级目录系统已升级；尚有部分县（市、区）目录未完成与省级目录挂接，已逾期，正在督办"),
    5: ("已完成", 100, "全省信息化项目普查完成，已建立项目清单并登记造册"),
    6: ("推进中", 70, "平台已完成可研批复和招标采购，正在开发建设，进度滞后于计划，已逾期"),
    7: ("已完成", 100, "“两通”平台升级完成，依申请政务服务事项网上可办率达到95%以上"),
    8: ("已完成", 100, "浮梁县、上栗县数字政府试点和省司法厅、省生态环境厅数字机关试点通过评估"),
    9: ("已完成", 100, "遴选发布首批数字政府标志性应用场景"),
    10: ("已完成", 100, "各设区市、县（市、区）均已明确分管领导和牵头部门，建立工作机构"),
    11: ("已完成", 100, "专班及工作组力量已充实，资金项目统筹等制度已出台"),
    12: ("持续推进", 80, "省电子政务外网安全运营中心已上线运行，常态化开展安全监测和应急演练"),
}


def tasks(province: str, end_month: str) -> pd.DataFrame:
    df = reference_tasks()
    end = (pd.Timestamp(f"{end_month}-01") + pd.offsets.MonthEnd(0)).date()
    plan_start = date(2023, 3, 1)
    rows = []
    for t in df.itertuples(index=False):
        status, progress, note = TASK_PROGRESS[t.task_id]
        deadline = None if pd.isna(t.deadline) else t.deadline
        if end < plan_start:
            status, progress, note = "未开始", 0, "工作要点尚未印发"
        elif deadline is not None and end < deadline:
            share = (end - plan_start).days / max((deadline - plan_start).days, 1)
            status, progress, note = "推进中", int(min(95, 10 + 85 * share)), "按计划推进中"
        elif deadline is None:
            share = min((end - plan_start).days / 730, 1.0)
            status, progress = "持续推进", int(20 + (progress - 20) * share)
        rows.append(
            {
                "task_id": t.task_id, "title": t.title, "summary": t.summary,
                "lead_units": t.lead_units, "deadline_text": t.deadline_text, "deadline": deadline,
                "status": status, "progress": progress, "progress_note": note,
                "region_code": province, "source": TASK_SOURCE,
            }
        )
    out = pd.DataFrame(rows)
    out["deadline"] = pd.to_datetime(out["deadline"])
    return out


# ---------------------------------------------------------------- the build


def generate(province: str, seed: int, end_month: str, months: int, scale: int,
             item_limit: int | None = None) -> tuple[dict, pd.DatetimeIndex]:
    """Every table as a DataFrame (service_monthly as a stream of chunks)."""
    regions = load_regions(province)
    month_idx = demo_services.month_range(end_month, months)
    counties = demo_services.make_counties(regions, seed)
    items = demo_services.make_items(seed, scale, item_limit)
    panel = demo_services.make_panel(counties, items, seed)
    projects = demo_projects.generate(
        regions, counties.frame.set_index("code")["size"], month_idx, seed
    )
    years = sorted(set(month_idx.year))
    cities = regions.loc[regions["level"] == "city", "code"].tolist()
    departments = pd.DataFrame([d[:3] for d in DEPARTMENTS], columns=["code", "name", "short_name"])
    frames = {
        "region": regions,
        "region_closure": demo_services.region_closure(regions),
        "department": departments,
        "service_item": demo_services.item_table(counties, items, panel, month_idx),
        "service_monthly": demo_services.service_chunks(counties, items, panel, month_idx, seed),
        "hotline_monthly": demo_services.hotline(counties, month_idx, seed),
        "data_resource_monthly": demo_services.data_resources(counties, month_idx, seed),
        **projects,
        "kpi_target": kpi_targets(province, years, cities),
        "task": tasks(province, end_month),
        "calendar": pd.DataFrame({"month": month_idx.values.astype("datetime64[D]")}),
    }
    return frames, month_idx


# the demo's tables that are reference data (loaded before the families are published)
REFERENCE_TABLES = ("region", "region_closure", "department", "kpi_target", "calendar", "task")
# the demo's fact tables, grouped by intake family (data/intake/specs)
FAMILY_TABLES = {
    "services": ("service_item", "service_monthly"),
    "hotline": ("hotline_monthly",),
    "data_resources": ("data_resource_monthly",),
    "projects": ("project", "project_event"),
    "spending": ("budget", "payment"),
    "tasks": ("task",),
}


def build_demo(
    path: Path | str,
    province: str = DEFAULT_PROVINCE,
    seed: int = DEFAULT_SEED,
    end_month: str = DEFAULT_END_MONTH,
    months: int = DEFAULT_MONTHS,
    scale: int = 1,
    force: bool = False,
    *,
    _item_limit: int | None = None,
) -> dict[str, Any]:
    """Build the demo database at ``path`` through the intake (validate, then publish as a
    new version, exactly as an office's own uploads are); return build statistics.

    ``_item_limit`` keeps only that many catalogue items (for fast tests).
    """
    t0 = time.perf_counter()
    province = str(province)
    _check_params(province, end_month, months, scale)
    target = Path(path)
    if (target.exists() or target.is_symlink()) and not force:
        raise FileExistsError(f"数据库文件已存在：{target}（如需重建请加 --force）")
    params = {"seed": int(seed), "end_month": end_month, "months": int(months), "scale": int(scale),
              "province": province}
    if _item_limit is not None:
        params["item_limit"] = int(_item_limit)
    version = data_version(params)
    frames, _ = generate(province, int(seed), end_month, int(months), int(scale), _item_limit)
    meta = {**{k: str(v) for k, v in params.items()}, "generator_version": GENERATOR_VERSION}
    reference = {t: frames.pop(t) for t in REFERENCE_TABLES}
    # the tasks are reference data; their progress is reported through the 督办 family
    progress = reference["task"][["task_id", "status", "progress", "progress_note"]].copy()
    reference["task"] = reference["task"].assign(status="未开始", progress=0, progress_note=None)
    frames["task"] = progress.assign(evidence_url=None)
    reference["meta"] = pd.DataFrame(sorted(meta.items()), columns=["key", "value"])
    families = {f: {t: frames[t] for t in tables if not _empty(frames[t])} for f, tables in FAMILY_TABLES.items()}
    published = publish_demo(target, reference, {f: sheets for f, sheets in families.items() if sheets},
                             data_version=version, updated_at=_demo_published_at(end_month))
    return {
        "path": str(target),
        "data_version": version,
        "version": published.version,
        "seconds": round(time.perf_counter() - t0, 2),
        "size_mb": round(target.resolve().stat().st_size / 2**20, 1),
        "rows": published.rows,
        **params,
    }


def _empty(frame) -> bool:
    """A table the short demo has no rows for (a stream of chunks is never empty)."""
    return isinstance(frame, pd.DataFrame) and frame.empty


def _demo_published_at(end_month: str) -> datetime:
    """A fixed publication time (the 5th of the month after the end month), so builds repeat."""
    first = pd.Timestamp(f"{end_month}-01") + pd.DateOffset(months=1)
    return datetime(first.year, first.month, 5, 9, 0)


def publish_demo(target: Path, reference: dict, families: dict, *, data_version: str, updated_at: datetime):
    """Validate every family like an upload and publish them all as one version."""
    from data.intake.publish import prepare_frames, publish

    with _pointing_at(target):
        return publish(prepare_frames(families, reference=reference, actor="演示数据生成器", kind="演示",
                                      data_version=data_version, updated_at=updated_at),
                       actor="演示数据生成器")


def ensure_database(path: Path | str | None = None) -> bool:
    """Build the default demo if the database is missing; return whether it built.

    An existing database is settled and upgraded first (:func:`data.prepare.prepare_database`)."""
    target = Path(path) if path is not None else pointer_path()
    if prepare_database(target):
        return False
    build_demo(target)
    return True


def ensure_demo(path: Path | str | None = None, *, out=None) -> bool:
    """The embedded start's preparation (``scripts/start.sh``): the database (the demo when it is
    missing) and, on the demo database's first start, one account per role, printed once."""
    from data.demo_accounts import ensure_demo_accounts

    target = Path(path) if path is not None else pointer_path()
    built = ensure_database(target)
    with _pointing_at(target):
        ensure_demo_accounts(out=out)
    return built


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m data.demo", description="生成领导驾驶舱演示数据库")
    ap.add_argument("action", nargs="?", choices=("build", "ensure"), default="build",
                    help="build（默认）：生成；ensure：没有数据库时生成默认演示库，并在首次启动时创建演示账号")
    ap.add_argument("--db", type=Path, default=None, help="数据库文件（默认 $COCKPIT_DB 或 data/cockpit.duckdb）")
    ap.add_argument("--province", default=DEFAULT_PROVINCE, help="省级行政区划代码，如 360000（江西）、520000（贵州）")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--end-month", default=DEFAULT_END_MONTH, help="数据截止月份 YYYY-MM")
    ap.add_argument("--months", type=int, default=DEFAULT_MONTHS)
    ap.add_argument("--scale", type=int, default=1, help="事实表规模倍数（仅用于性能测试）")
    ap.add_argument("--force", action="store_true", help="覆盖已存在的数据库文件")
    args = ap.parse_args(argv)
    path = args.db or pointer_path()
    if args.action == "ensure":  # the embedded start (scripts/start.sh); production never runs this
        if ensure_demo(path):
            print(f"已生成演示数据库：{path}", flush=True)
        return 0
    try:
        stats = build_demo(path, args.province, args.seed, args.end_month, args.months, args.scale, args.force)
    except DemoError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except FileExistsError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"已生成演示数据库：{stats['path']}（{stats['size_mb']} MB，用时 {stats['seconds']} 秒，"
          f"版本 v{stats['version']}，数据版本 {stats['data_version']}，{stats['rows']:,} 行经导入校验发布）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
