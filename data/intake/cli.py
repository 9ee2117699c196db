"""``python -m data.intake``: templates, exports, checks, loads, history and rollback.

Exit codes: 0 published or unchanged (or the asked-for file written); 2 rejected, with the
report on stderr; 1 the operation could not run (another publish came first).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import date
from pathlib import Path

from data import db, versions
from data.intake.errors import IntakeError
from data.intake.service import current_version


def _scope(arg: str | None):
    from data.scope import Scope
    from metrics.regions import root_region

    codes = arg or os.environ.get("COCKPIT_VIEWER_SCOPE", "")
    regions = tuple(c.strip() for c in codes.split(",") if c.strip())
    return Scope(regions=regions) if regions else Scope.province(root_region())


def _actor(arg: str | None) -> str:
    return arg or f"命令行:{getpass.getuser()}"


def _month(text: str) -> date:
    try:
        y, m = text.split("-")
        return date(int(y), int(m), 1)
    except ValueError as exc:
        raise IntakeError(f"月份格式应为 YYYY-MM：{text!r}") from exc


def _err(*lines: str) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def _print_preview(result) -> None:
    p = result.prepared
    t = p.totals()
    print(f"校验通过：{result.family}，{result.rows:,} 行，月份 {', '.join(result.months) or '—'}")
    print(f"将新增 {t['added']:,} 行，修改 {t['changed']:,} 行，删除 {t['removed']:,} 行（发布后为版本 v{p.version}）")
    by_city: dict[tuple, list[int]] = {}
    for d in p.diff:
        key = (d["period"] or "—", d.get("city_name") or d.get("county_name") or "—")
        acc = by_city.setdefault(key, [0, 0, 0])
        for i, k in enumerate(("added", "changed", "removed")):
            acc[i] += d[k]
    for (period, city), (a, c, r) in sorted(by_city.items()):
        print(f"  {period}  {city:<10} 新增 {a:>7,}  修改 {c:>7,}  删除 {r:>7,}")
    for m in p.kpi_moves:
        before = "—" if m["before"] is None else f"{m['before']:.1f}"
        after = "—" if m["after"] is None else f"{m['after']:.1f}"
        print(f"  指标 {m['name']}（{m['period_name']} {m['month']}）：{before} → {after} {m['unit']}")
    for w in result.warnings:
        print(f"  提示：{w}")


def cmd_load(args) -> int:
    from data.intake.service import UNCHANGED, check_upload, confirm_and_publish

    path = Path(args.file)
    data = path.read_bytes() if path.is_file() else b""
    if not path.is_file():
        raise IntakeError(f"文件不存在：{path}")
    actor = _actor(args.actor)
    result = check_upload(data, path.name, scope=_scope(args.scope), actor=actor, region=args.region,
                          family=args.family)
    if result.errors:
        _err(f"校验未通过（{len(result.errors)} 个问题），未发布：", *(str(p) for p in result.errors))
        return 2
    if result.unchanged or result.prepared is None:
        print(UNCHANGED)
        return 0
    _print_preview(result)
    if args.check_only:
        from data.intake.publish import discard

        discard(result.prepared.token)
        return 0
    confirmed = args.yes
    if not confirmed and sys.stdin.isatty():
        confirmed = input("确认发布？[y/N] ").strip().lower() in ("y", "yes", "是")
    elif not confirmed and not result.warnings:
        confirmed = True  # a scheduled load without anything to confirm
    if not confirmed:
        from data.intake.publish import discard

        discard(result.prepared.token)
        _err("存在需要核实的提示，未发布；核实后加 --yes 重新导入")
        return 2
    done = confirm_and_publish(result.prepared.token, actor=actor, warnings_confirmed=True)
    print(f"已发布：版本 v{done.version}（此前 v{done.previous}）")
    return 0


def cmd_template(args) -> int:
    from data.intake.templates import write_template

    with current_version() as con:
        write_template(args.fact, args.out, con)
    print(f"已生成模板：{args.out}")
    return 0


def cmd_export(args) -> int:
    from data.intake.templates import write_export

    scope = _scope(args.scope)
    with current_version() as con:
        write_export(args.fact, con, month=_month(args.month), region=args.region or scope.regions[0], scope=scope,
                     out=args.out)
    print(f"已导出：{args.out}")
    return 0


def cmd_history(args) -> int:
    from data import opstore

    current = versions.current_number(versions.store_for(db.pointer_path()))
    print(f"当前版本：v{current}")
    for r in opstore.history(limit=args.limit):
        version = f"v{r['version']}" if r["version"] else ""
        print(f"#{r['import_id']:<5} {r['started_at']:%Y-%m-%d %H:%M}  {r['kind']:<3} {r['outcome']:<6} {version:<6} "
              f"{r['family'] or '':<14} {r['months'] or '':<20} {r['rows']:>9,} 行  {r['actor']}  {r['source_name']}")
    return 0


def cmd_rollback(args) -> int:
    from data.intake.publish import rollback

    text = args.version.lstrip("vV")
    if not text.isdigit():
        raise IntakeError(f"版本号应为数字，如 7 或 v7：{args.version!r}")
    done = rollback(int(text), actor=_actor(args.actor))
    print(f"已回滚：当前版本 v{done.version}（此前 v{done.previous}）")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m data.intake", description="数据报送与导入")
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("template", help="生成某类数据的 Excel 模板")
    t.add_argument("fact")
    t.add_argument("--out", required=True)
    e = sub.add_parser("export", help="按模板格式导出已发布的某月数据")
    e.add_argument("fact")
    e.add_argument("--month", required=True)
    e.add_argument("--region")
    e.add_argument("--scope")
    e.add_argument("--out", required=True)
    for name, helptext in (("check", "只校验并预览，不发布"), ("load", "校验并发布")):
        c = sub.add_parser(name, help=helptext)
        c.add_argument("file")
        c.add_argument("--family", help="数据类别（CSV 无法从表头判断时）")
        c.add_argument("--region", help="报送地区（完整性检查的范围，默认为报送范围）")
        c.add_argument("--scope", help="报送范围（地区代码，逗号分隔；默认 $COCKPIT_VIEWER_SCOPE 或全省）")
        c.add_argument("--actor")
        c.add_argument("--yes", action="store_true", help="确认提示并发布，不再询问")
        c.set_defaults(check_only=name == "check")
    h = sub.add_parser("history", help="导入与发布历史")
    h.add_argument("--limit", type=int, default=30)
    r = sub.add_parser("rollback", help="回滚到某个已发布版本")
    r.add_argument("version")
    r.add_argument("--actor")
    args = ap.parse_args(argv)
    handlers = {"template": cmd_template, "export": cmd_export, "check": cmd_load, "load": cmd_load,
                "history": cmd_history, "rollback": cmd_rollback}
    try:
        return handlers[args.cmd](args)
    except IntakeError as exc:
        _err("错误：", *(str(p) for p in exc.problems))
        return 2
    except versions.PublishConflict as exc:
        _err(f"错误：{exc}")
        return 1
