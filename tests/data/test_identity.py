"""Accounts, passwords, lockout, TOTP, sessions and device tokens (data/identity.py), on a
private operational store per test, with the clock injected."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyotp
import pytest

from data import audit, identity
from data.scope import Scope

PW = "Cockpit-Test-2026!"
T0 = datetime(2026, 11, 20, 9, 0, 0)


@pytest.fixture
def url(store_url):
    """A fresh operational store on each backend (SQLite; PostgreSQL when scripts/test.sh runs one)."""
    return store_url


@pytest.fixture
def clock(monkeypatch):
    """A settable clock: ``clock.now`` is what data.identity sees."""

    class Clock:
        now = T0

        def advance(self, **delta):
            self.now += timedelta(**delta)

    c = Clock()
    monkeypatch.setattr(identity, "clock", lambda: c.now)
    return c


def _actions(url, actor=None):
    return [r["action"] for r in reversed(audit.search(actor=actor, url=url))]


# ------------------------------------------------------------------ passwords


@pytest.mark.parametrize(("password", "problem"), [
    ("Short-1a", "至少 12 位"),
    ("alllowercaseletters", "至少 3 类"),
    ("ALLUPPER12345678", "至少 3 类"),
    ("Zhangsan-2026-Pass", "不得包含用户名"),
])
def test_the_password_policy_says_what_is_wrong_in_chinese(password, problem):
    problems = identity.password_problems(password, "zhangsan")
    assert any(problem in p for p in problems), problems


def test_three_classes_of_four_and_twelve_characters_are_enough():
    assert identity.password_problems("abcdefGHIJ12", "zhangsan") == []
    assert identity.password_problems("abcdefghij1!", "zhangsan") == []
    for _ in range(20):
        assert identity.password_problems(identity.generate_password("admin"), "admin") == []


def test_a_weak_password_is_refused_at_creation(url):
    with pytest.raises(identity.PasswordPolicyError, match="至少 12 位"):
        identity.create_user("zhangsan", role="leader", region="360100", password="short", url=url)
    assert identity.get_user("zhangsan", url=url) is None


def test_passwords_are_stored_as_argon2_hashes_only(url):
    from sqlalchemy import select

    from data import opstore

    identity.create_user("zhangsan", role="leader", region="360100", password=PW, url=url)
    with opstore.engine(url).connect() as con:
        stored = con.execute(select(opstore.users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PW not in stored


def test_roles_regions_and_departments_are_checked(url):
    with pytest.raises(identity.IdentityError, match="未知的角色"):
        identity.create_user("a1x", role="boss", region="360100", password=PW, url=url)
    with pytest.raises(identity.IdentityError, match="6 位"):
        identity.create_user("a2x", role="leader", region="3601", password=PW, url=url)
    with pytest.raises(identity.IdentityError, match="须指定部门"):
        identity.create_user("a3x", role="dept", region="360100", password=PW, url=url)
    with pytest.raises(identity.IdentityError, match="用户名"):
        identity.create_user("x", role="leader", region="360100", password=PW, url=url)
    identity.create_user("dup", role="leader", region="360100", password=PW, url=url)
    with pytest.raises(identity.IdentityError, match="已存在"):
        identity.create_user("dup", role="leader", region="360100", password=PW, url=url)


# ------------------------------------------------------------------ scope and permissions


def test_the_scope_is_the_users_region_and_a_department_users_department(url):
    leader = identity.create_user("leader1", role="leader", region="360100", password=PW, url=url)
    dept = identity.create_user("dept1", role="dept", region="360102", dept="D01", password=PW, url=url)
    assert identity.scope_of(leader) == Scope(regions=("360100",))
    assert identity.scope_of(dept) == Scope(regions=("360102",), departments=("D01",))


@pytest.mark.parametrize(("role", "path", "ok"), [
    ("leader", "/", True), ("leader", "/forecast", True), ("leader", "/screen", True), ("leader", "/data", False),
    ("leader", "/data/export/services.xlsx", False), ("leader", "/admin/audit", False),
    ("analyst", "/projects", True), ("analyst", "/data", False),
    ("dept", "/services", True), ("dept", "/data", False),
    ("reporter", "/data", True), ("reporter", "/", True), ("reporter", "/admin/audit", False),
    ("admin", "/admin/audit", True), ("admin", "/data", True), ("admin", "/", True),
    (None, "/", False),
])
def test_one_table_says_which_role_opens_which_page(role, path, ok):
    assert identity.may_open(role, path) is ok


def test_the_permission_matrix_lists_every_area_and_role():
    rows = identity.permission_matrix()
    assert [r["area"] for r in rows] == list(identity.ACCESS)
    screen = next(r for r in rows if r["area"] == "screen")
    assert screen["device"] is True and all(screen[role] for role in identity.ROLES)
    data = next(r for r in rows if r["area"] == "data")
    assert [role for role in identity.ROLES if data[role]] == ["reporter", "admin"]


# ------------------------------------------------------------------ login and lockout


def test_a_wrong_password_and_an_unknown_user_get_the_same_message(url):
    identity.create_user("zhangsan", role="leader", region="360100", password=PW, url=url)
    with pytest.raises(identity.LoginError) as wrong:
        identity.authenticate("zhangsan", "Wrong-password-1", url=url)
    with pytest.raises(identity.LoginError) as unknown:
        identity.authenticate("nobody", "Wrong-password-1", url=url)
    assert str(wrong.value) == str(unknown.value) == "用户名或密码错误"
    assert identity.authenticate("zhangsan", PW, url=url).username == "zhangsan"


def test_five_failures_lock_the_account_for_fifteen_minutes(url, clock):
    identity.create_user("zhangsan", role="leader", region="360100", password=PW, url=url)
    for _ in range(4):
        with pytest.raises(identity.LoginError):
            identity.authenticate("zhangsan", "Wrong-password-1", url=url)
    with pytest.raises(identity.LockedError) as locked:
        identity.authenticate("zhangsan", "Wrong-password-1", url=url)
    assert locked.value.until == T0 + timedelta(minutes=15)
    assert "已锁定" in str(locked.value) and "09:15" in str(locked.value)
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(identity.LockedError):  # even the right password, while locked
        identity.authenticate("zhangsan", PW, url=url)
    clock.advance(seconds=1)
    assert identity.authenticate("zhangsan", PW, url=url).username == "zhangsan"
    actions = _actions(url, "zhangsan")
    assert actions.count("登录失败") == 6 and actions.count("账号锁定") == 1
    lock_row = next(r for r in audit.search(action="账号锁定", url=url))
    assert lock_row["outcome"] == "锁定" and '"consecutive"' not in (lock_row["detail"] or "")


def test_a_success_resets_the_count_of_failures(url, clock):
    identity.create_user("zhangsan", role="leader", region="360100", password=PW, url=url)
    for _ in range(4):
        with pytest.raises(identity.LoginError):
            identity.authenticate("zhangsan", "Wrong-password-1", url=url)
    identity.authenticate("zhangsan", PW, url=url)
    for _ in range(4):
        with pytest.raises(identity.LoginError) as err:
            identity.authenticate("zhangsan", "Wrong-password-1", url=url)
        assert not isinstance(err.value, identity.LockedError)


def test_a_deactivated_account_cannot_log_in_and_its_sessions_end(url, clock):
    user = identity.create_user("zhangsan", role="leader", region="360100", password=PW, url=url)
    token = identity.create_session(user, url=url)
    identity.deactivate_user("zhangsan", actor="admin", url=url)
    assert identity.resolve_session(token, url=url) is None
    with pytest.raises(identity.LoginError, match="已停用"):
        identity.authenticate("zhangsan", PW, url=url)


# ------------------------------------------------------------------ TOTP


def test_totp_is_a_second_step_that_counts_toward_the_lockout(url, clock):
    identity.create_user("zhangsan", role="leader", region="360100", password=PW, url=url)
    uri = identity.enable_totp("zhangsan", actor="admin", url=url)
    assert uri.startswith("otpauth://totp/") and "zhangsan" in uri
    user = identity.authenticate("zhangsan", PW, url=url)
    assert user.has_totp
    totp = pyotp.TOTP(identity.totp_secret("zhangsan", url=url))
    # the previous step's code still works (clock skew), then the current one; each only once
    assert identity.verify_second_factor(user.user_id, totp.at(T0 - timedelta(seconds=30)), url=url)
    assert identity.verify_second_factor(user.user_id, totp.at(T0), url=url).username == "zhangsan"
    with pytest.raises(identity.LoginError, match="动态验证码"):  # failure 1: replayed
        identity.verify_second_factor(user.user_id, totp.at(T0), url=url)
    with pytest.raises(identity.LoginError, match="动态验证码"):  # failure 2: expired
        identity.verify_second_factor(user.user_id, totp.at(T0 - timedelta(minutes=5)), url=url)
    for _ in range(2):  # failures 3 and 4
        with pytest.raises(identity.LoginError):
            identity.verify_second_factor(user.user_id, "000000" if totp.at(T0) != "000000" else "111111", url=url)
    with pytest.raises(identity.LockedError):
        identity.verify_second_factor(user.user_id, "000000" if totp.at(T0) != "000000" else "111111", url=url)
    identity.disable_totp("zhangsan", actor="admin", url=url)
    assert not identity.get_user("zhangsan", url=url).has_totp


# ------------------------------------------------------------------ sessions


def test_a_session_ends_after_thirty_minutes_idle(url, clock):
    user = identity.create_user("zhangsan", role="leader", region="360100", password=PW, url=url)
    token = identity.create_session(user, url=url)
    for _ in range(5):  # active use keeps it alive well past 30 minutes
        clock.advance(minutes=29)
        assert identity.resolve_session(token, url=url).actor == "zhangsan"
    clock.advance(minutes=30)
    assert identity.resolve_session(token, url=url) is None
    clock.advance(seconds=1)
    assert identity.resolve_session(token, url=url) is None  # revoked, not revived
    assert _actions(url, "zhangsan")[-1] == "会话超时"


def test_a_session_ends_after_twelve_hours_however_active(url, clock):
    user = identity.create_user("zhangsan", role="leader", region="360100", password=PW, url=url)
    token = identity.create_session(user, url=url)
    for _ in range(47):
        clock.advance(minutes=15)
        assert identity.resolve_session(token, url=url) is not None
    clock.advance(minutes=15)  # 12 h
    assert identity.resolve_session(token, url=url) is None
    detail = audit.search(action="会话超时", url=url)[0]["detail"]
    assert "12 小时" in detail


def test_logout_revokes_the_session_at_once(url, clock):
    user = identity.create_user("zhangsan", role="leader", region="360100", password=PW, url=url)
    token = identity.create_session(user, url=url)
    other = identity.create_session(user, url=url)
    assert identity.revoke_session(token, url=url) is True
    assert identity.resolve_session(token, url=url) is None
    assert identity.resolve_session(other, url=url) is not None  # another browser's session stays
    assert identity.revoke_session(token, url=url) is False
    assert "退出登录" in _actions(url, "zhangsan")


def test_a_session_token_is_stored_only_as_its_hash(url):
    from sqlalchemy import select

    from data import opstore

    user = identity.create_user("zhangsan", role="leader", region="360100", password=PW, url=url)
    token = identity.create_session(user, url=url)
    with opstore.engine(url).connect() as con:
        stored = con.execute(select(opstore.sessions.c.session_hash)).scalar_one()
    assert token not in stored and len(stored) == 64
    assert identity.resolve_session(token[:-1] + ("A" if token[-1] != "A" else "B"), url=url) is None


def test_a_changed_role_or_region_ends_the_users_sessions(url):
    user = identity.create_user("zhangsan", role="leader", region="360100", password=PW, url=url)
    token = identity.create_session(user, url=url)
    identity.update_user("zhangsan", actor="admin", region="360102", url=url)
    assert identity.resolve_session(token, url=url) is None
    fresh = identity.create_session(identity.get_user("zhangsan", url=url), url=url)
    assert identity.resolve_session(fresh, url=url).scope == Scope(regions=("360102",))
    row = audit.search(action="用户修改", url=url)[0]
    assert '"360100"' in row["detail"] and '"360102"' in row["detail"]


# ------------------------------------------------------------------ device tokens


def test_a_device_token_is_shown_once_and_opens_a_device_session(url, clock):
    token_id, token = identity.create_device_token("大厅大屏", region="360100", playlist="regions=cities&dwell=20",
                                                   actor="admin", url=url)
    assert [d.name for d in identity.list_device_tokens(url=url)] == ["大厅大屏"]
    made = identity.create_device_session(token, url=url)
    assert made is not None
    session_token, principal = made
    assert principal.is_device and principal.scope == Scope(regions=("360100",))
    assert principal.playlist == {"regions": "cities", "dwell": "20"}
    assert principal.may_open("/screen") and principal.may_open("/api/screen")
    assert not principal.may_open("/") and not principal.may_open("/data")
    clock.advance(days=30)  # a wall runs for weeks: no idle or absolute limit, only revocation
    assert identity.resolve_session(session_token, url=url).is_device
    identity.revoke_device_token(token_id, actor="admin", url=url)
    assert identity.resolve_session(session_token, url=url) is None
    assert identity.create_device_session(token, url=url) is None
    assert identity.device_principal(token, url=url) is None
    actions = _actions(url)
    assert {"设备令牌创建", "设备登录", "设备令牌吊销"} <= set(actions) and actions[-1] == "拒绝"


def test_a_wrong_device_token_is_refused_and_audited(url):
    assert identity.create_device_session("dev_not-a-token", url=url) is None
    row = audit.search(action="拒绝", url=url)[0]
    assert "设备令牌无效" in row["detail"]


# ------------------------------------------------------------------ SSO accounts


def test_an_sso_identity_must_exist_locally_and_is_linked_on_first_use(url):
    identity.create_user("lisi", role="analyst", region="360100", password=None, url=url)
    user = identity.sso_user("sub-123", "lisi", url=url)
    assert user.username == "lisi"
    assert identity.get_user("lisi", url=url).oidc_subject == "sub-123"
    assert identity.sso_user("sub-123", "renamed-at-the-provider", url=url).username == "lisi"
    with pytest.raises(identity.LoginError, match="未在本系统开通"):
        identity.sso_user("sub-999", "wangwu", url=url)
    with pytest.raises(identity.LoginError, match="未在本系统开通"):  # someone else's linked account
        identity.sso_user("sub-456", "lisi", url=url)
    with pytest.raises(identity.LoginError):  # an SSO-only account has no password to guess
        identity.authenticate("lisi", "", url=url)
    assert audit.search(action="登录失败", url=url)[0]["actor"] == "lisi"
