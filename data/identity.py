"""Who is looking: accounts, roles, sessions, device tokens and what each role may open.

The domain of login, kept apart from Flask (``web/auth.py`` wires it to requests). Everything
lives in the operational store (``data/opstore.py``): users, server-side sessions and device
tokens; every login, failure, lockout, logout and change is appended to the audit log
(``data/audit.py``).

* **Roles** (:data:`ROLES`): 领导 ``leader``, 分析员 ``analyst``, 部门用户 ``dept``, 报送员
  ``reporter``, 管理员 ``admin``. A user has one region (a province, city or county code: that
  region and everything under it) and, for department users, one department.
  :func:`scope_of` turns a user into the data layer's :class:`~data.scope.Scope`.
* **What each role may open** is one table, :data:`ACCESS` (see :func:`area_of`, :func:`may_open`).
* **Passwords**: argon2id (argon2-cffi); the policy (:func:`password_problems`) asks for at least
  12 characters, 3 of the 4 character classes and not the username. Five consecutive failures
  lock the account for 15 minutes.
* **TOTP** (pyotp) is an optional second factor per user.
* **Sessions**: a random token in the browser's cookie, only its sha256 here; a person's session
  ends after 30 minutes idle or 12 hours in all, or when revoked (logout, deactivation).
* **Device tokens** (the wall display): shown once at creation, stored as sha256; a device
  session lives as long as its token is not revoked.

Times come from :func:`clock` (tests replace it).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import and_, insert, or_, select, update

from data import audit, opstore
from data.opstore import device_tokens, sessions, users
from data.scope import Scope

# ------------------------------------------------------------------ roles and what they may open

ROLES = {"leader": "领导", "analyst": "分析员", "dept": "部门用户", "reporter": "报送员", "admin": "管理员"}
ANALYTICAL_ROLES = frozenset(ROLES)  # every role sees the analytical pages of its own scope

# area → the roles that may open it (a device session opens only "screen", read-only)
ACCESS: dict[str, frozenset[str]] = {
    "analytical": ANALYTICAL_ROLES,                 # 总览 服务 资金 项目 督办 考核 预测 简报 (and their data)
    "screen": ANALYTICAL_ROLES,                     # 数据大屏 /screen, /api/screen
    "data": frozenset({"reporter", "admin"}),       # 数据管理 /data: templates, exports, upload, publish
    "admin": frozenset({"admin"}),                  # /admin*: users, audit log, permission matrix
}
AREA_NAMES = {"analytical": "分析页面", "screen": "数据大屏", "data": "数据管理", "admin": "系统管理"}
DEVICE_AREAS = frozenset({"screen"})

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=30)  # last_seen is written at most this often per session
MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$")
_CODE = re.compile(r"^\d{6}$")
_DEPT = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_SYMBOLS = "!#$%&*+-=?@^_~"


def clock() -> datetime:
    """Now (naive local time, as the audit log records it). Tests replace this."""
    return datetime.now()


def _now() -> datetime:
    return clock()


def area_of(path: str) -> str:
    """Which area a URL path belongs to (for :data:`ACCESS`)."""
    path = "/" + path.strip("/")
    if path in ("/screen", "/api/screen") or path.startswith("/screen/"):
        return "screen"
    if path == "/data" or path.startswith("/data/"):
        return "data"
    if path == "/admin" or path.startswith(("/admin/", "/admin_", "/admin-")):
        return "admin"
    return "analytical"


def may_open(role: str | None, path: str) -> bool:
    """Whether ``role`` may open ``path`` (``role`` None: nobody logged in)."""
    return role is not None and role in ACCESS[area_of(path)]


def permission_matrix() -> list[dict]:
    """Who may open what, one row per area (for the compliance export and the README)."""
    return [{"area": area, "name": AREA_NAMES[area],
             **{role: role in roles for role in ROLES}, "device": area in DEVICE_AREAS}
            for area, roles in ACCESS.items()]


# ------------------------------------------------------------------ errors


class IdentityError(ValueError):
    """A request about accounts that cannot be done (the message is Chinese)."""


class PasswordPolicyError(IdentityError):
    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


class LoginError(PermissionError):
    """A login that failed (the message is Chinese and does not say which part was wrong)."""


class LockedError(LoginError):
    def __init__(self, until: datetime):
        super().__init__(f"连续登录失败次数过多，账号已锁定，请于 {until:%H:%M} 后再试")
        self.until = until


# ------------------------------------------------------------------ the records


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    display_name: str
    role: str
    region_code: str
    dept_code: str | None
    active: bool
    has_totp: bool
    oidc_subject: str | None
    has_password: bool
    locked_until: datetime | None
    created_at: datetime

    @property
    def role_name(self) -> str:
        return ROLES.get(self.role, self.role)


@dataclass(frozen=True)
class Device:
    token_id: int
    name: str
    region_code: str
    playlist: str
    created_by: str
    created_at: datetime
    last_used: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, eq=False)
class Principal:
    """Whoever a request comes from: a person's session or a wall display's.

    It quacks like a Flask-Login user (``is_authenticated`` …) without importing Flask."""

    kind: str                 # "user" or "device"
    actor: str                # the audit log's actor: the username, or 「设备:<name>」
    name: str                 # shown in the header and the import history
    role: str | None          # None for a device
    scope: Scope
    session_hash: str | None = None
    user_id: int | None = None
    device_id: int | None = None
    region_code: str = ""
    playlist: dict[str, str] = field(default_factory=dict)

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_hash or ""

    @property
    def is_device(self) -> bool:
        return self.kind == "device"

    @property
    def role_name(self) -> str:
        return "大屏设备" if self.is_device else ROLES.get(self.role or "", self.role or "")

    def may_open(self, path: str) -> bool:
        if self.is_device:
            return area_of(path) in DEVICE_AREAS
        return may_open(self.role, path)


def scope_of(user: User) -> Scope:
    """The data the user may see: their region (and everything under it); a department user's
    department only."""
    if user.role == "dept":
        if not user.dept_code:
            return Scope(regions=(user.region_code,), departments=())
        return Scope(regions=(user.region_code,), departments=(user.dept_code,))
    return Scope(regions=(user.region_code,))


def _user(row) -> User:
    m = row._mapping
    return User(user_id=m["user_id"], username=m["username"], display_name=m["display_name"], role=m["role"],
                region_code=m["region_code"], dept_code=m["dept_code"], active=bool(m["active"]),
                has_totp=bool(m["totp_secret"]), oidc_subject=m["oidc_subject"],
                has_password=bool(m["password_hash"]), locked_until=m["locked_until"], created_at=m["created_at"])


def _device(row) -> Device:
    m = row._mapping
    return Device(token_id=m["token_id"], name=m["name"], region_code=m["region_code"], playlist=m["playlist"] or "",
                  created_by=m["created_by"], created_at=m["created_at"], last_used=m["last_used"],
                  revoked_at=m["revoked_at"])


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ passwords

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))  # verified against for unknown users (same timing)


def password_problems(password: str, username: str = "") -> list[str]:
    """What is wrong with ``password`` under the policy (empty: acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"密码长度至少 {MIN_PASSWORD} 位（当前 {len(password)} 位）")
    classes = sum([any(c.isupper() for c in password), any(c.islower() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)])
    if classes < 3:
        problems.append("密码须包含大写字母、小写字母、数字、符号中的至少 3 类")
    if username and username.lower() in password.lower():
        problems.append("密码不得包含用户名")
    return problems


def check_password(password: str, username: str = "") -> None:
    """Raise :class:`PasswordPolicyError` when ``password`` breaks the policy."""
    problems = password_problems(password, username)
    if problems:
        raise PasswordPolicyError(problems)


def generate_password(username: str = "", length: int = 16) -> str:
    """A random password that meets the policy (every character class)."""
    alphabet = string.ascii_letters + string.digits + _SYMBOLS
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if (any(c.isupper() for c in pw) and any(c.islower() for c in pw) and any(c.isdigit() for c in pw)
                and any(c in _SYMBOLS for c in pw) and not password_problems(pw, username)):
            return pw


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# ------------------------------------------------------------------ users


def _check_username(username: str) -> str:
    username = (username or "").strip()
    if not _USERNAME.match(username):
        raise IdentityError("用户名应为 3–64 位字母、数字或 . _ @ -（以字母或数字开头）")
    return username


def _check_role_region(role: str, region: str, dept: str | None) -> None:
    if role not in ROLES:
        raise IdentityError(f"未知的角色：{role}（可选：{'、'.join(f'{k} {v}' for k, v in ROLES.items())}）")
    if not isinstance(region, str) or not _CODE.match(region):
        raise IdentityError(f"地区代码应为 6 位行政区划代码：{region}")
    if role == "dept" and not dept:
        raise IdentityError("部门用户须指定部门（--dept）")
    if dept is not None and not _DEPT.match(dept):
        raise IdentityError(f"部门代码无效：{dept}")


def create_user(username: str, *, role: str, region: str, password: str | None = None, dept: str | None = None,
                display_name: str | None = None, oidc_subject: str | None = None, actor: str = "系统",
                url: str | None = None) -> User:
    """Create an account; ``password`` None makes an SSO-only account (no password login)."""
    username = _check_username(username)
    _check_role_region(role, region, dept)
    if password is not None:
        check_password(password, username)
    now = _now()
    with opstore.engine(url).begin() as con:
        if con.execute(select(users.c.user_id).where(users.c.username == username)).first():
            raise IdentityError(f"用户名已存在：{username}")
        con.execute(insert(users).values(
            username=username, display_name=(display_name or username)[:128],
            password_hash=hash_password(password) if password is not None else None, role=role,
            region_code=region, dept_code=dept if role == "dept" else None, oidc_subject=oidc_subject or None,
            failed_logins=0, active=True, created_at=now, updated_at=now))
    audit.record("用户创建", actor=actor, outcome="成功", target=username, region=region,
                 detail={"role": role, "dept": dept, "sso": oidc_subject is not None}, url=url)
    created = get_user(username, url=url)
    if created is None:  # written in the transaction above; only a concurrent delete gets here
        raise IdentityError(f"用户创建后未找到：{username}")
    return created


def get_user(username: str, url: str | None = None) -> User | None:
    with opstore.engine(url).connect() as con:
        row = con.execute(select(users).where(users.c.username == username)).first()
    return _user(row) if row else None


def get_user_by_id(user_id: int, url: str | None = None) -> User | None:
    with opstore.engine(url).connect() as con:
        row = con.execute(select(users).where(users.c.user_id == user_id)).first()
    return _user(row) if row else None


def list_users(url: str | None = None) -> list[User]:
    with opstore.engine(url).connect() as con:
        return [_user(r) for r in con.execute(select(users).order_by(users.c.user_id))]


def count_users(url: str | None = None) -> int:
    with opstore.engine(url).connect() as con:
        return len(con.execute(select(users.c.user_id).limit(1)).all())


def _require(username: str, url: str | None) -> User:
    user = get_user(username, url=url)
    if user is None:
        raise IdentityError(f"用户不存在：{username}")
    return user


def update_user(username: str, *, actor: str, role: str | None = None, region: str | None = None,
                dept: str | None = None, display_name: str | None = None, url: str | None = None) -> User:
    """Change a user's role, region, department or name; their sessions end (the scope changed)."""
    user = _require(username, url)
    new_role, new_region = role or user.role, region or user.region_code
    new_dept = dept if dept is not None else user.dept_code
    _check_role_region(new_role, new_region, new_dept if new_role == "dept" else None)
    changes = {"role": new_role, "region_code": new_region, "dept_code": new_dept if new_role == "dept" else None}
    if display_name:
        changes["display_name"] = display_name[:128]
    with opstore.engine(url).begin() as con:
        con.execute(update(users).where(users.c.user_id == user.user_id).values(**changes, updated_at=_now()))
    revoke_user_sessions(user.user_id, url=url)
    before = {"role": user.role, "region_code": user.region_code, "dept_code": user.dept_code}
    audit.record("用户修改", actor=actor, outcome="成功", target=username, region=new_region,
                 detail={"before": before, "after": {k: changes[k] for k in before}}, url=url)
    return _require(username, url)


def set_password(username: str, password: str, *, actor: str, url: str | None = None) -> None:
    """Set a new password (policy checked); the user's sessions end."""
    user = _require(username, url)
    check_password(password, username)
    with opstore.engine(url).begin() as con:
        con.execute(update(users).where(users.c.user_id == user.user_id).values(
            password_hash=hash_password(password), failed_logins=0, locked_until=None, updated_at=_now()))
    revoke_user_sessions(user.user_id, url=url)
    audit.record("密码修改", actor=actor, outcome="成功", target=username, url=url)


def set_active(username: str, active: bool, *, actor: str, url: str | None = None) -> None:
    """Deactivate (every session ends at once) or reactivate an account."""
    user = _require(username, url)
    with opstore.engine(url).begin() as con:
        con.execute(update(users).where(users.c.user_id == user.user_id).values(
            active=active, failed_logins=0, locked_until=None, updated_at=_now()))
    if not active:
        revoke_user_sessions(user.user_id, url=url)
    audit.record("用户启用" if active else "用户停用", actor=actor, outcome="成功", target=username, url=url)


def deactivate_user(username: str, *, actor: str, url: str | None = None) -> None:
    set_active(username, False, actor=actor, url=url)


def link_oidc_subject(username: str, subject: str, *, actor: str, url: str | None = None) -> None:
    user = _require(username, url)
    with opstore.engine(url).begin() as con:
        con.execute(update(users).where(users.c.user_id == user.user_id).values(oidc_subject=subject,
                                                                                 updated_at=_now()))
    audit.record("用户修改", actor=actor, outcome="成功", target=username, detail={"oidc_subject": subject}, url=url)


# ------------------------------------------------------------------ TOTP


def enable_totp(username: str, *, actor: str, url: str | None = None) -> str:
    """Give the user a new TOTP secret; return its ``otpauth://`` URI (for the authenticator app)."""
    user = _require(username, url)
    secret = pyotp.random_base32()
    with opstore.engine(url).begin() as con:
        con.execute(update(users).where(users.c.user_id == user.user_id).values(totp_secret=secret,
                                                                                 updated_at=_now()))
    audit.record("启用双因素", actor=actor, outcome="成功", target=username, url=url)
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="领导驾驶舱")


def disable_totp(username: str, *, actor: str, url: str | None = None) -> None:
    user = _require(username, url)
    with opstore.engine(url).begin() as con:
        con.execute(update(users).where(users.c.user_id == user.user_id).values(totp_secret=None,
                                                                                 updated_at=_now()))
    audit.record("停用双因素", actor=actor, outcome="成功", target=username, url=url)


def totp_secret(username: str, url: str | None = None) -> str | None:
    with opstore.engine(url).connect() as con:
        row = con.execute(select(users.c.totp_secret).where(users.c.username == username)).first()
    return row[0] if row else None


# ------------------------------------------------------------------ login

BAD_LOGIN = "用户名或密码错误"
BAD_TOTP = "动态验证码错误或已过期"


def _fail(con, row, *, ip: str | None, why: str, url: str | None) -> LoginError:
    """Count a failure against ``row`` (locking at the fifth); the error to raise."""
    now = _now()
    count = (row.failed_logins or 0) + 1
    if count >= LOCK_AFTER:
        until = now + LOCK_FOR
        con.execute(update(users).where(users.c.user_id == row.user_id).values(failed_logins=0, locked_until=until))
        con.commit()
        audit.record("登录失败", actor=row.username, role=row.role, outcome="失败", ip=ip,
                     detail={"reason": why, "consecutive": count}, url=url)
        audit.record("账号锁定", actor=row.username, role=row.role, outcome="锁定", ip=ip,
                     detail={"until": until.isoformat(timespec="seconds"), "minutes": LOCK_FOR.seconds // 60},
                     url=url)
        return LockedError(until)
    con.execute(update(users).where(users.c.user_id == row.user_id).values(failed_logins=count))
    con.commit()
    audit.record("登录失败", actor=row.username, role=row.role, outcome="失败", ip=ip,
                 detail={"reason": why, "consecutive": count}, url=url)
    return LoginError(BAD_TOTP if why == "动态验证码错误" else BAD_LOGIN)


def _locked(row, ip: str | None, url: str | None) -> LockedError | None:
    if row.locked_until is not None and row.locked_until > _now():
        audit.record("登录失败", actor=row.username, role=row.role, outcome="失败", ip=ip,
                     detail={"reason": "账号锁定中"}, url=url)
        return LockedError(row.locked_until)
    return None


def authenticate(username: str, password: str, *, ip: str | None = None, url: str | None = None) -> User:
    """The user whose password this is; :class:`LoginError` (or :class:`LockedError`) otherwise.

    A correct password on an account with TOTP is only the first step: call
    :func:`verify_second_factor` before :func:`create_session`."""
    username = (username or "").strip()[:64]
    with opstore.engine(url).connect() as con:
        row = con.execute(select(users).where(users.c.username == username)).first()
        if row is None or not row.password_hash:
            try:
                _hasher.verify(_DUMMY_HASH, password or "")  # the same work as for a real account
            except VerificationError:
                pass
            audit.record("登录失败", actor=username or "（空）", outcome="失败", ip=ip,
                         detail={"reason": "用户不存在" if row is None else "仅限统一身份认证登录"}, url=url)
            raise LoginError(BAD_LOGIN)
        locked = _locked(row, ip, url)
        if locked:
            raise locked
        try:
            _hasher.verify(row.password_hash, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise _fail(con, row, ip=ip, why="密码错误", url=url) from None
        if not row.active:
            audit.record("登录失败", actor=row.username, role=row.role, outcome="失败", ip=ip,
                         detail={"reason": "账号已停用"}, url=url)
            raise LoginError("账号已停用，请联系管理员")
        values: dict[str, object] = {"failed_logins": 0, "locked_until": None}
        if _hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = hash_password(password)
        if not row.totp_secret:
            con.execute(update(users).where(users.c.user_id == row.user_id).values(**values))
            con.commit()
    return _user(row)


def _totp_step(secret: str | None, code: str) -> int | None:
    """The 30-second step whose code this is (the previous, current or next: clocks drift); None if none."""
    if not secret or not code.isdigit():
        return None
    totp, now = pyotp.TOTP(secret), _now()
    for offset in (-1, 0, 1):
        when = now + timedelta(seconds=offset * totp.interval)
        if hmac.compare_digest(totp.at(when), code):
            return totp.timecode(when)
    return None


def verify_second_factor(user_id: int, code: str, *, ip: str | None = None, url: str | None = None) -> User:
    """Check the TOTP code of a user who gave the right password (counts toward the lockout)."""
    with opstore.engine(url).connect() as con:
        row = con.execute(select(users).where(users.c.user_id == user_id)).first()
        if row is None or not row.active:
            raise LoginError(BAD_LOGIN)
        locked = _locked(row, ip, url)
        if locked:
            raise locked
        step = _totp_step(row.totp_secret, re.sub(r"\s", "", code or ""))
        if step is None or step <= (row.totp_last_step or -1):  # wrong, expired, or already used once
            raise _fail(con, row, ip=ip, why="动态验证码错误", url=url)
        # the step is stored only if no one else stored it (or a later one) first: a code works once
        done = con.execute(update(users).where(users.c.user_id == row.user_id)
                           .where(or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step))
                           .values(failed_logins=0, locked_until=None, totp_last_step=step))
        con.commit()
        if done.rowcount != 1:
            raise _fail(con, row, ip=ip, why="动态验证码错误", url=url)
    return _user(row)


def sso_user(subject: str, username: str | None, *, ip: str | None = None, url: str | None = None) -> User:
    """The local account of an SSO identity: matched by its subject, else by username (then linked).
    Unknown, inactive, locked or someone else's accounts are refused (audited)."""
    with opstore.engine(url).connect() as con:
        row = con.execute(select(users).where(users.c.oidc_subject == subject)).first()
        if row is None and username:
            row = con.execute(select(users).where(users.c.username == username)).first()
            if row is not None and row.oidc_subject and row.oidc_subject != subject:
                row = None
    who = (username or subject)[:64]
    if row is None:
        audit.record("登录失败", actor=who, outcome="失败", ip=ip,
                     detail={"reason": "统一身份认证用户未在本系统开通", "sso_subject": subject}, url=url)
        raise LoginError(f"统一身份认证账号「{who}」未在本系统开通，请联系管理员")
    if not row.active:
        audit.record("登录失败", actor=row.username, role=row.role, outcome="失败", ip=ip,
                     detail={"reason": "账号已停用", "sso": True}, url=url)
        raise LoginError("账号已停用，请联系管理员")
    locked = _locked(row, ip, url)
    if locked:
        raise locked
    if not row.oidc_subject:
        link_oidc_subject(row.username, subject, actor="统一身份认证", url=url)
    return _user(row)


# ------------------------------------------------------------------ sessions


def new_token() -> str:
    return secrets.token_urlsafe(32)


def create_session(user: User, *, method: str = "密码", ip: str | None = None, user_agent: str | None = None,
                   url: str | None = None) -> str:
    """Start a person's session; return the token for the cookie (only its hash is stored)."""
    token, now = new_token(), _now()
    with opstore.engine(url).begin() as con:
        con.execute(insert(sessions).values(session_hash=_sha(token), user_id=user.user_id, created_at=now,
                                            last_seen=now, ip=(ip or "")[:64], user_agent=(user_agent or "")[:255]))
    audit.record("登录成功", actor=user.username, role=user.role, outcome="成功", ip=ip, region=user.region_code,
                 detail={"method": method}, url=url)
    return token


def _principal_for_user(user: User, session_hash: str | None) -> Principal:
    name = user.display_name if user.display_name == user.username else f"{user.display_name}（{user.username}）"
    return Principal(kind="user", actor=user.username, name=name, role=user.role, scope=scope_of(user),
                     session_hash=session_hash, user_id=user.user_id, region_code=user.region_code)


def principal_for_user(user: User) -> Principal:
    """A principal without a session (CLIs, tests that call pages directly)."""
    return _principal_for_user(user, None)


def _principal_for_device(device: Device, session_hash: str | None) -> Principal:
    return Principal(kind="device", actor=f"设备:{device.name}"[:64], name=f"大屏设备：{device.name}", role=None,
                     scope=Scope(regions=(device.region_code,)), session_hash=session_hash,
                     device_id=device.token_id, region_code=device.region_code,
                     playlist=dict(parse_qsl(device.playlist or "")))


def resolve_session(token: str | None, *, ip: str | None = None, url: str | None = None) -> Principal | None:
    """The principal of a session cookie, or None (unknown, revoked, timed out, or its user or
    device token no longer valid; a timeout or a revoked device is audited once and revoked)."""
    if not token or len(token) > 128:
        return None
    h, now = _sha(token), _now()
    with opstore.engine(url).connect() as con:
        s = con.execute(select(sessions).where(sessions.c.session_hash == h)).first()
        if s is None:
            return None
        if s.device_id is not None:
            d = con.execute(select(device_tokens).where(device_tokens.c.token_id == s.device_id)).first()
            if d is None or d.revoked_at is not None or s.revoked_at is not None:
                if s.revoked_at is None:
                    con.execute(update(sessions).where(sessions.c.session_hash == h).values(revoked_at=now))
                con.commit()
                if d is not None and d.revoked_at is not None:  # a wall still asking: say so in the log
                    audit.record("拒绝", actor=f"设备:{d.name}"[:64], outcome="拒绝", ip=ip, region=d.region_code,
                                 target="设备令牌", detail={"reason": "设备令牌已吊销"}, url=url)
                return None
            if now - s.last_seen >= TOUCH_EVERY:
                con.execute(update(sessions).where(sessions.c.session_hash == h).values(last_seen=now))
                con.execute(update(device_tokens).where(device_tokens.c.token_id == d.token_id)
                            .values(last_used=now))
                con.commit()
            return _principal_for_device(_device(d), h)
        if s.revoked_at is not None:
            return None
        u = con.execute(select(users).where(users.c.user_id == s.user_id)).first()
        if u is None or not u.active:
            con.execute(update(sessions).where(sessions.c.session_hash == h).values(revoked_at=now))
            con.commit()
            return None
        expired = None
        if now - s.created_at >= ABSOLUTE_TIMEOUT:
            expired = "超过最长会话时间（12 小时）"
        elif now - s.last_seen >= IDLE_TIMEOUT:
            expired = "空闲超过 30 分钟"
        if expired:
            con.execute(update(sessions).where(sessions.c.session_hash == h).values(revoked_at=now))
            con.commit()
            audit.record("会话超时", actor=u.username, role=u.role, outcome="结束", ip=ip, detail={"reason": expired},
                         url=url)
            return None
        if now - s.last_seen >= TOUCH_EVERY:
            con.execute(update(sessions).where(sessions.c.session_hash == h).values(last_seen=now))
            con.commit()
        return _principal_for_user(_user(u), h)


def revoke_session(token: str | None, *, ip: str | None = None, url: str | None = None) -> bool:
    """Log out: the session stops working at once (audited). Whether there was one to end."""
    if not token:
        return False
    h = _sha(token)
    with opstore.engine(url).begin() as con:
        s = con.execute(select(sessions).where(and_(sessions.c.session_hash == h,
                                                    sessions.c.revoked_at.is_(None)))).first()
        if s is None:
            return False
        con.execute(update(sessions).where(sessions.c.session_hash == h).values(revoked_at=_now()))
        u = con.execute(select(users).where(users.c.user_id == s.user_id)).first() if s.user_id else None
    if u is not None:
        audit.record("退出登录", actor=u.username, role=u.role, outcome="成功", ip=ip, url=url)
    return True


def revoke_user_sessions(user_id: int, url: str | None = None) -> int:
    with opstore.engine(url).begin() as con:
        res = con.execute(update(sessions).where(and_(sessions.c.user_id == user_id,
                                                      sessions.c.revoked_at.is_(None))).values(revoked_at=_now()))
    return res.rowcount or 0


# ------------------------------------------------------------------ device tokens (the wall)


def create_device_token(name: str, *, region: str, playlist: str = "", actor: str,
                        url: str | None = None) -> tuple[int, str]:
    """A token for a wall display bound to ``region`` and a playlist (the /screen query string).
    Returns (id, token): the token is shown this once; only its sha256 is kept."""
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise IdentityError("设备名称不能为空（不超过 128 字）")
    if not _CODE.match(region or ""):
        raise IdentityError(f"地区代码应为 6 位行政区划代码：{region}")
    playlist = (playlist or "").strip().lstrip("?")
    if "device" in dict(parse_qsl(playlist)):
        raise IdentityError("播放列表中不能包含 device 参数")
    token = "dev_" + new_token()
    with opstore.engine(url).begin() as con:
        res = con.execute(insert(device_tokens).values(token_hash=_sha(token), name=name, region_code=region,
                                                       playlist=playlist, created_by=actor, created_at=_now()))
        token_id = opstore.inserted_id(res)
    audit.record("设备令牌创建", actor=actor, outcome="成功", target=f"{token_id}:{name}", region=region,
                 detail={"playlist": playlist}, url=url)
    return token_id, token


def revoke_device_token(token_id: int, *, actor: str, url: str | None = None) -> bool:
    """Revoke a device token: its sessions stop on their next request. Whether it was active."""
    now = _now()
    with opstore.engine(url).begin() as con:
        d = con.execute(select(device_tokens).where(device_tokens.c.token_id == token_id)).first()
        if d is None:
            raise IdentityError(f"设备令牌不存在：{token_id}")
        if d.revoked_at is not None:
            return False
        con.execute(update(device_tokens).where(device_tokens.c.token_id == token_id).values(revoked_at=now))
        con.execute(update(sessions).where(and_(sessions.c.device_id == token_id, sessions.c.revoked_at.is_(None)))
                    .values(revoked_at=now))
    audit.record("设备令牌吊销", actor=actor, outcome="成功", target=f"{token_id}:{d.name}", region=d.region_code,
                 url=url)
    return True


def list_device_tokens(url: str | None = None) -> list[Device]:
    with opstore.engine(url).connect() as con:
        return [_device(r) for r in con.execute(select(device_tokens).order_by(device_tokens.c.token_id))]


def device_for_token(token: str | None, url: str | None = None) -> Device | None:
    """The active device a token belongs to, or None."""
    if not token or len(token) > 128:
        return None
    with opstore.engine(url).connect() as con:
        d = con.execute(select(device_tokens).where(device_tokens.c.token_hash == _sha(token))).first()
    return _device(d) if d is not None and d.revoked_at is None else None


def create_device_session(token: str, *, ip: str | None = None, user_agent: str | None = None,
                          url: str | None = None) -> tuple[str, Principal] | None:
    """Exchange a device token for a device session (audited); None if the token is not valid."""
    device = device_for_token(token, url=url)
    if device is None:
        audit.record("拒绝", actor="设备", outcome="拒绝", ip=ip, target="设备令牌",
                     detail={"reason": "设备令牌无效或已吊销"}, url=url)
        return None
    session_token, now = new_token(), _now()
    with opstore.engine(url).begin() as con:
        con.execute(insert(sessions).values(session_hash=_sha(session_token), device_id=device.token_id,
                                            created_at=now, last_seen=now, ip=(ip or "")[:64],
                                            user_agent=(user_agent or "")[:255]))
        con.execute(update(device_tokens).where(device_tokens.c.token_id == device.token_id).values(last_used=now))
    audit.record("设备登录", actor=f"设备:{device.name}"[:64], outcome="成功", ip=ip, region=device.region_code,
                 target=f"{device.token_id}:{device.name}", url=url)
    return session_token, _principal_for_device(device, _sha(session_token))


def device_principal(token: str | None, url: str | None = None) -> Principal | None:
    """A device principal straight from a token (the ``X-Cockpit-Device`` header; no session)."""
    device = device_for_token(token, url=url)
    return _principal_for_device(device, None) if device is not None else None
