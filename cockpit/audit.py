"""``python -m cockpit.audit``: check, export and prune the audit log.

    python -m cockpit.audit verify
    python -m cockpit.audit export --since 2026-10-01 --until 2026-10-31 --out 审计日志.csv [--user U] [--action A]
    python -m cockpit.audit prune --before 2026-04-01 [--yes]

Exit codes: 0 done (verify: the chain is intact); 1 verify found changed, inserted or deleted
rows (each is named on stderr); 2 refused or bad arguments (a prune inside the retention
period, a broken chain, a malformed date). The store is ``$COCKPIT_OPSTORE_URL`` (default: the
SQLite file beside the database pointer), as for the app.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from data import audit

EXPORT_ACTION = "审计导出"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own messages, in a Chinese frame; exit code 2
        self.print_usage(sys.stderr)
        self.exit(2, f"参数有误：{message}\n")


def _actor() -> str:
    return f"命令行:{getpass.getuser()}"


def parse_day(text_value: str) -> date:
    try:
        return datetime.strptime(text_value.strip(), "%Y-%m-%d").date()
    except ValueError as exc:
        raise audit.AuditError(f"日期格式应为 YYYY-MM-DD：{text_value!r}") from exc


def cmd_verify(_args) -> int:
    report = audit.check()
    if report.intact:
        print(report.summary())
        if report.anchor_note():
            print(report.anchor_note())
        return 0
    print(report.summary(), file=sys.stderr)
    for problem in report.problems:
        print(f"  {problem}", file=sys.stderr)
    if report.anchor_note():
        print(report.anchor_note(), file=sys.stderr)
    return 1


def cmd_export(args) -> int:
    since = audit.parse_time(args.since) if args.since else None
    until = audit.parse_time(args.until, end=True) if args.until else None
    if since and until and since >= until:
        raise audit.AuditError("起始时间应早于截止时间")
    out = Path(args.out)
    # audit rows name people and addresses: the file is readable by its owner only
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8-sig", newline="") as fh:
        n = audit.write_csv(audit.rows(actor=args.user, action=args.action, since=since, until=until,
                                       through=audit.last_seq()), fh)
    audit.record(EXPORT_ACTION, actor=_actor(), outcome="成功", target=out.name,
                 detail={"since": args.since, "until": args.until, "user": args.user, "action": args.action,
                         "rows": n})
    print(f"已导出 {n} 条审计记录：{out}")
    return 0


def _confirmed(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        print("没有终端可确认：加 --yes 确认清理", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes", "是")


def cmd_prune(args) -> int:
    before = parse_day(args.before)
    audit.check_retention(before)  # before asking: the question would be pointless
    n = audit.count(until=datetime.combine(before, datetime.min.time()))
    if n == 0:
        print(f"没有早于 {before:%Y-%m-%d} 的审计记录，无需清理")
        return 0
    if not _confirmed(f"将删除 {n} 条早于 {before:%Y-%m-%d} 的审计记录（不可恢复），确认？", args.yes):
        return 2
    pruned = audit.prune(before, actor=_actor())
    anchor = pruned.anchor
    if anchor is None:
        print(f"没有早于 {before:%Y-%m-%d} 的审计记录，无需清理")
        return 0
    print(f"已清理 {pruned.rows} 条早于 {before:%Y-%m-%d} 的审计记录；"
          f"锚点：第 {anchor.last_seq} 条，哈希 {anchor.last_hash}")
    report = audit.check()
    print(report.summary())
    return 0 if report.intact else 1


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(prog="python -m cockpit.audit", description="审计日志：校验、导出、按保留期清理")
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=_Parser)
    sub.add_parser("verify", help="校验哈希链：被改动、插入或删除的记录逐条列出")
    e = sub.add_parser("export", help="导出一段时间的审计记录为 CSV")
    e.add_argument("--since", help="起始（含），YYYY-MM-DD 或 YYYY-MM-DD HH:MM")
    e.add_argument("--until", help="截止（只写日期时含当天），YYYY-MM-DD 或 YYYY-MM-DD HH:MM")
    e.add_argument("--user", help="只导出该用户的记录")
    e.add_argument("--action", help="只导出该操作的记录")
    e.add_argument("--out", required=True, help="输出文件（.csv，UTF-8，Excel 可直接打开）")
    p = sub.add_parser("prune", help=f"删除早于某日的记录（至少保留 {audit.MIN_RETENTION_DAYS} 天）")
    p.add_argument("--before", required=True, help="YYYY-MM-DD：删除此日之前的记录")
    p.add_argument("--yes", action="store_true", help="不再询问")
    args = ap.parse_args(argv)
    handlers = {"verify": cmd_verify, "export": cmd_export, "prune": cmd_prune}
    try:
        return handlers[args.cmd](args)
    except audit.AuditError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"无法写入文件 {exc.filename}：{exc.strerror}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"无法读写运维数据库（COCKPIT_OPSTORE_URL）：{type(exc).__name__}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
