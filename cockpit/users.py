"""``python -m cockpit.users``: accounts and the wall's device tokens.

    python -m cockpit.users create-admin --username admin [--region 360000]
    python -m cockpit.users create --username zhang --role leader --region 360100 [--dept D01] [--name 张三]
                                   [--sso-only] [--generate]
    python -m cockpit.users list
    python -m cockpit.users password --username zhang [--generate]
    python -m cockpit.users disable|enable --username zhang
    python -m cockpit.users totp enable|disable --username zhang
    python -m cockpit.users token create --name 大厅大屏 --region 360100 [--playlist "regions=cities&dwell=20"]
    python -m cockpit.users token list
    python -m cockpit.users token revoke 3

A password is asked for twice at a terminal; without one, or with ``--generate``, a password
that meets the policy is generated and printed this once. A device token is printed this once
(only its sha256 is kept). Every change is in the audit log, with the operating-system user as
the actor. Exit codes: 0 done; 2 refused or bad arguments. The store is
``$COCKPIT_OPSTORE_URL`` (default: the SQLite file beside the database pointer).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from sqlalchemy.exc import SQLAlchemyError

from data import identity


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        self.print_usage(sys.stderr)
        print(f"参数错误：{message}", file=sys.stderr)
        raise SystemExit(2)


def _actor() -> str:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = str(os.getuid())
    return f"命令行:{who}"


def _root_region() -> str | None:
    try:
        from metrics.regions import root_region

        return root_region()
    except Exception:  # noqa: BLE001 — no database yet: the region must be given
        return None


def _check_region(code: str) -> None:
    """Refuse a region the database does not have (when there is a database to ask)."""
    root = _root_region()
    if root is None:
        return
    from data.scope import Scope
    from metrics.regions import UnknownRegionError, get_region

    try:
        get_region(code, scope=Scope.province(root))
    except UnknownRegionError as exc:
        raise identity.IdentityError(str(exc)) from None
    except PermissionError:
        raise identity.IdentityError(f"地区 {code} 不属于本系统的省份（{root}）") from None


def _password(username: str, generate: bool) -> tuple[str, bool]:
    """(password, generated): asked for twice at a terminal, else generated."""
    if generate or not sys.stdin.isatty():
        return identity.generate_password(username), True
    while True:
        first = getpass.getpass("密码（至少 12 位，含大写、小写、数字、符号中的 3 类；留空则自动生成）：")
        if not first:
            return identity.generate_password(username), True
        problems = identity.password_problems(first, username)
        if problems:
            print("；".join(problems), file=sys.stderr)
            continue
        if getpass.getpass("再输入一次：") != first:
            print("两次输入不一致", file=sys.stderr)
            continue
        return first, False


def _show_password(username: str, password: str) -> None:
    print(f"用户 {username} 的初始密码（只显示这一次，请妥善交付并提醒修改）：{password}")


def _create(args, role: str) -> int:
    region = args.region or _root_region()
    if not region:
        raise identity.IdentityError("请用 --region 指定地区代码（数据库尚未建立，无法取得本省代码）")
    _check_region(region)
    password, generated = (None, False) if getattr(args, "sso_only", False) else _password(args.username,
                                                                                            args.generate)
    user = identity.create_user(args.username, role=role, region=region, dept=getattr(args, "dept", None),
                                display_name=args.name, password=password, actor=_actor(),
                                oidc_subject=getattr(args, "subject", None))
    print(f"已创建用户 {user.username}（{user.role_name}，地区 {user.region_code}"
          + (f"，部门 {user.dept_code}" if user.dept_code else "") + "）")
    if password is not None and generated:
        _show_password(user.username, password)
    return 0


def _list(_args) -> int:
    rows = identity.list_users()
    if not rows:
        print("尚无用户。请先执行：python -m cockpit.users create-admin --username admin")
        return 0
    print("编号\t用户名\t姓名\t角色\t地区\t部门\t状态\t双因素\t统一认证")
    for u in rows:
        state = "已停用" if not u.active else ("锁定中" if u.locked_until and u.locked_until > identity.clock()
                                              else "正常")
        print(f"{u.user_id}\t{u.username}\t{u.display_name}\t{u.role_name}\t{u.region_code}\t{u.dept_code or '—'}\t"
              f"{state}\t{'是' if u.has_totp else '否'}\t{'是' if u.oidc_subject else '否'}")
    return 0


def _set_password(args) -> int:
    if identity.get_user(args.username) is None:
        raise identity.IdentityError(f"用户不存在：{args.username}")
    password, generated = _password(args.username, args.generate)
    identity.set_password(args.username, password, actor=_actor())
    print(f"已为 {args.username} 设置新密码（其会话已全部结束）")
    if generated:
        _show_password(args.username, password)
    return 0


def _active(args, active: bool) -> int:
    identity.set_active(args.username, active, actor=_actor())
    print(f"已{'启用' if active else '停用'}用户 {args.username}" + ("" if active else "（其会话已全部结束）"))
    return 0


def _totp(args) -> int:
    if args.action == "enable":
        uri = identity.enable_totp(args.username, actor=_actor())
        print(f"已为 {args.username} 启用动态验证码。请在身份验证器中添加（只显示这一次）：\n{uri}")
    else:
        identity.disable_totp(args.username, actor=_actor())
        print(f"已为 {args.username} 停用动态验证码")
    return 0


def _token(args) -> int:
    if args.action == "create":
        if not args.name or not args.region:
            raise identity.IdentityError("创建设备令牌须指定 --name 和 --region")
        _check_region(args.region)
        token_id, token = identity.create_device_token(args.name, region=args.region, playlist=args.playlist or "",
                                                       actor=_actor())
        print(f"已创建设备令牌 #{token_id}（{args.name}，地区 {args.region}）。令牌只显示这一次：\n{token}\n"
              f"大屏打开：/screen?device={token}（或在每个请求中带请求头 X-Cockpit-Device）")
        return 0
    if args.action == "revoke":
        if args.id is None:
            raise identity.IdentityError("请指定要吊销的设备令牌编号")
        done = identity.revoke_device_token(args.id, actor=_actor())
        print(f"已吊销设备令牌 #{args.id}，使用它的大屏将在下一次请求时停止" if done
              else f"设备令牌 #{args.id} 早已吊销")
        return 0
    rows = identity.list_device_tokens()
    if not rows:
        print("尚无设备令牌")
        return 0
    print("编号\t名称\t地区\t播放列表\t创建人\t创建时间\t最近使用\t状态")
    for d in rows:
        print(f"{d.token_id}\t{d.name}\t{d.region_code}\t{d.playlist or '—'}\t{d.created_by}\t"
              f"{d.created_at:%Y-%m-%d %H:%M}\t{f'{d.last_used:%Y-%m-%d %H:%M}' if d.last_used else '—'}\t"
              f"{'已吊销' if d.revoked_at else '有效'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m cockpit.users", description="领导驾驶舱：用户与大屏设备令牌")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    roles = "、".join(f"{k} {v}" for k, v in identity.ROLES.items())

    c = sub.add_parser("create-admin", help="创建管理员（首个管理员由此创建）")
    c.add_argument("--username", required=True)
    c.add_argument("--region", help="地区代码（默认：本省）")
    c.add_argument("--name", help="姓名")
    c.add_argument("--generate", action="store_true", help="自动生成密码（不询问）")

    c = sub.add_parser("create", help="创建用户")
    c.add_argument("--username", required=True)
    c.add_argument("--role", required=True, choices=list(identity.ROLES), help=roles)
    c.add_argument("--region", help="地区代码：省、市或县（默认：本省）")
    c.add_argument("--dept", help="部门代码（部门用户必填）")
    c.add_argument("--name", help="姓名")
    c.add_argument("--generate", action="store_true", help="自动生成密码（不询问）")
    c.add_argument("--sso-only", action="store_true", help="仅允许统一身份认证登录（不设密码）")
    c.add_argument("--subject", help="统一身份认证的用户标识（sub）；不填则首次登录时按用户名关联")

    sub.add_parser("list", help="列出用户")

    c = sub.add_parser("password", help="重设密码（同时解除锁定）")
    c.add_argument("--username", required=True)
    c.add_argument("--generate", action="store_true")

    for name, text in (("disable", "停用用户"), ("enable", "启用用户")):
        c = sub.add_parser(name, help=text)
        c.add_argument("--username", required=True)

    c = sub.add_parser("totp", help="动态验证码（双因素）")
    c.add_argument("action", choices=["enable", "disable"])
    c.add_argument("--username", required=True)

    c = sub.add_parser("token", help="大屏设备令牌")
    c.add_argument("action", choices=["create", "list", "revoke"])
    c.add_argument("id", nargs="?", type=int, help="revoke：令牌编号")
    c.add_argument("--name", help="create：设备名称")
    c.add_argument("--region", help="create：地区代码（大屏的数据范围）")
    c.add_argument("--playlist", help="create：播放列表，即 /screen 的查询串（如 regions=cities&dwell=20）")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "create-admin":
            return _create(args, "admin")
        if args.command == "create":
            return _create(args, args.role)
        if args.command == "list":
            return _list(args)
        if args.command == "password":
            return _set_password(args)
        if args.command in ("disable", "enable"):
            return _active(args, args.command == "enable")
        if args.command == "totp":
            return _totp(args)
        return _token(args)
    except identity.IdentityError as exc:
        print(f"未完成：{exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"无法访问运行数据库（COCKPIT_OPSTORE_URL）：{type(exc).__name__}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
