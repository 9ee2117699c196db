"""``python -m cockpit.users``: the first admin, accounts, passwords and the wall's device tokens."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from cockpit import users as cli
from data import audit, identity


@pytest.fixture
def store(demo_env, tmp_path, monkeypatch):
    """A private operational store beside the demo database (regions are checked against it)."""
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    monkeypatch.setenv("COCKPIT_OPSTORE_URL", url)
    return url


def _password_in(text: str) -> str:
    return re.search(r"初始密码（[^）]*）：(\S+)", text).group(1)


def test_create_admin_prints_a_generated_password_once_that_logs_in(store, capsys):
    assert cli.main(["create-admin", "--username", "admin", "--generate"]) == 0
    out = capsys.readouterr().out
    password = _password_in(out)
    assert identity.password_problems(password, "admin") == []
    user = identity.authenticate("admin", password)
    assert (user.role, user.region_code) == ("admin", "360000")  # the database's province by default
    assert cli.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "admin" in listing and "管理员" in listing and password not in listing
    row = audit.search(action="用户创建")[0]
    assert row["actor"].startswith("命令行:") and row["target"] == "admin"


def test_create_admin_asks_twice_at_a_terminal_and_enforces_the_policy(store, capsys, monkeypatch):
    answers = iter(["short", "Strong-Enough-2026", "Different-2026!", "Strong-Enough-2026", "Strong-Enough-2026"])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(cli.getpass, "getpass", lambda _prompt="": next(answers))
    assert cli.main(["create-admin", "--username", "root1", "--region", "360100"]) == 0
    captured = capsys.readouterr()
    assert "至少 12 位" in captured.err and "两次输入不一致" in captured.err
    assert "初始密码" not in captured.out  # a typed password is never printed
    assert identity.authenticate("root1", "Strong-Enough-2026").region_code == "360100"


@pytest.mark.parametrize(("args", "message"), [
    (["create", "--username", "user1", "--role", "leader", "--region", "999999", "--generate"], "未知的地区代码"),
    (["create", "--username", "user2", "--role", "dept", "--region", "360100", "--generate"], "须指定部门"),
    (["create", "--username", "user3", "--role", "leader", "--region", "110000", "--generate"], "未知的地区代码"),
    (["token", "revoke", "99"], "设备令牌不存在"),
    (["disable", "--username", "nobody"], "用户不存在"),
])
def test_bad_requests_are_refused_in_chinese_with_exit_code_2(store, capsys, args, message):
    assert cli.main(args) == 2
    assert message in capsys.readouterr().err


def test_users_of_every_role_and_an_sso_only_account(store, capsys):
    assert cli.main(["create", "--username", "dept1", "--role", "dept", "--region", "360102", "--dept", "D01",
                     "--name", "东湖区公安", "--generate"]) == 0
    assert cli.main(["create", "--username", "sso1", "--role", "analyst", "--region", "360100", "--sso-only"]) == 0
    out = capsys.readouterr().out
    assert out.count("初始密码") == 1
    assert identity.scope_of(identity.get_user("dept1")).departments == ("D01",)
    assert not identity.get_user("sso1").has_password


def test_a_password_reset_unlocks_and_disable_ends_the_sessions(store, capsys):
    cli.main(["create", "--username", "zhang", "--role", "leader", "--region", "360100", "--generate"])
    capsys.readouterr()
    for _ in range(5):
        with pytest.raises(identity.LoginError):
            identity.authenticate("zhang", "Wrong-password-1")
    assert cli.main(["password", "--username", "zhang", "--generate"]) == 0
    password = _password_in(capsys.readouterr().out)
    token = identity.create_session(identity.authenticate("zhang", password))
    assert cli.main(["disable", "--username", "zhang"]) == 0
    assert identity.resolve_session(token) is None
    assert cli.main(["enable", "--username", "zhang"]) == 0
    assert identity.authenticate("zhang", password).active


def test_totp_enable_prints_the_provisioning_uri(store, capsys):
    cli.main(["create", "--username", "zhang", "--role", "leader", "--region", "360100", "--generate"])
    assert cli.main(["totp", "enable", "--username", "zhang"]) == 0
    assert "otpauth://totp/" in capsys.readouterr().out
    assert identity.get_user("zhang").has_totp


def test_device_tokens_are_shown_once_listed_without_the_token_and_revoked(store, capsys):
    assert cli.main(["token", "create", "--name", "大厅大屏", "--region", "360100",
                     "--playlist", "regions=cities&dwell=20"]) == 0
    out = capsys.readouterr().out
    token = re.search(r"(dev_\S+)", out).group(1)
    assert identity.device_for_token(token).name == "大厅大屏"
    assert cli.main(["token", "list"]) == 0
    listing = capsys.readouterr().out
    assert "大厅大屏" in listing and token not in listing and "有效" in listing
    assert cli.main(["token", "revoke", "1"]) == 0
    assert identity.device_for_token(token) is None
    assert cli.main(["token", "revoke", "1"]) == 0 and "早已吊销" in capsys.readouterr().out


def test_the_module_runs_as_a_command(store):
    done = subprocess.run([sys.executable, "-m", "cockpit.users", "list"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "尚无用户" in done.stdout
