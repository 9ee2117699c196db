"""Check an uploaded file and prepare it for 发布: the steps the page and the CLI share.

Every attempt is recorded in the import history (data.opstore) with its file name, sha256,
family, months, regions, rows, who, when, outcome and the validation summary, whether it
is rejected, found unchanged, published or abandoned.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from data import audit, db, opstore, versions
from data.intake import publish as pub
from data.intake.errors import IntakeError, Problem
from data.scope import Scope

UNCHANGED = "内容未变化，未发布新版本"
UPLOAD_SUFFIX = ".upload"
UPLOAD_GONE = "上传的文件已过期或已处理，请重新选择文件"


@dataclass
class CheckResult:
    """What a clerk sees after 上传: the problems, or the preview of a prepared change."""

    import_id: int
    family: str | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    prepared: pub.Prepared | None = None
    months: list[str] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unchanged(self) -> bool:
        return self.ok and self.prepared is None


def check_upload(data: bytes, filename: str, *, scope: Scope, actor: str, region: str | None = None,
                 family: str | None = None, today: date | None = None, kind: str = "导入") -> CheckResult:
    """Read, validate and (when valid) prepare an upload; nothing is published yet."""
    from data.intake.read import read_upload
    from data.intake.validate import ValidationContext, validate
    from metrics.freshness import today as clock

    sha = hashlib.sha256(data).hexdigest()
    store = versions.store_for(db.pointer_path())
    import_id = opstore.log_start(kind=kind, source_name=filename or "（无文件名）", actor=actor, sha256=sha,
                                  base_version=versions.current_number(store))
    result = CheckResult(import_id=import_id, family=family)
    try:
        parsed = read_upload(data, filename, family=family)
        result.family = parsed.family
        with current_version() as con:
            report = validate(parsed, ValidationContext(con=con, scope=scope, region=region,
                                                        today=today or clock()))
        result.errors, result.warnings = list(report.errors), list(report.warnings)
        result.months = [m.strftime("%Y-%m") for m in report.months]
        result.rows = report.rows
        fields: dict[str, Any] = {"family": parsed.family, "months": ",".join(result.months),
                  "regions": ",".join(report.regions), "rows": report.rows}
        if report.errors:
            opstore.log_update(import_id, outcome="已拒绝", summary=pub.summary_of(report), **fields)
            return _audited(result, filename, actor, "未通过")
        prepared = pub.prepare({parsed.family: report.frames}, actor=actor, import_id=import_id, scope=scope)
        if prepared.unchanged:
            pub.discard(prepared.token)
            opstore.log_update(import_id, outcome="内容未变化", summary=pub.summary_of(report), **fields)
            return _audited(result, filename, actor, "无变化")
        prepared.warnings = [str(w) for w in report.warnings]
        pub._write_meta(store, prepared)
        opstore.log_update(import_id, outcome="待发布",
                           summary={**pub.summary_of(report), "totals": prepared.totals()}, **fields)
        result.prepared = prepared
        return _audited(result, filename, actor, "通过")
    except IntakeError as exc:
        result.errors = list(exc.problems)
        opstore.log_update(import_id, outcome="已拒绝",
                           summary={"errors": len(exc.problems), "warnings": 0,
                                    "first": [str(p) for p in exc.problems[:20]]})
        return _audited(result, filename, actor, "未通过")
    except BaseException as exc:
        opstore.log_update(import_id, outcome="失败", summary={"error": type(exc).__name__})
        _audited(result, filename, actor, "失败")
        raise


def _audited(result: CheckResult, filename: str, actor: str, outcome: str) -> CheckResult:
    """One audit row per upload (等保: uploads are audited), whatever its outcome."""
    audit.record("上传", actor=actor, outcome=outcome, target=(filename or "（无文件名）")[:255],
                 month=result.months[-1] if result.months else None,
                 detail={"import_id": result.import_id, "family": result.family, "rows": result.rows,
                         "errors": len(result.errors), "warnings": len(result.warnings)})
    return result


def confirm_and_publish(token: str, *, actor: str, warnings_confirmed: bool) -> pub.Published:
    """发布 a prepared change; warnings must have been confirmed by the clerk."""
    prepared = pub.load_prepared(token)
    if prepared.actor != actor:
        raise IntakeError("只能发布本人校验的文件")
    if prepared.warnings and not warnings_confirmed:
        raise IntakeError(f"有 {len(prepared.warnings)} 条提示需要核实：请确认后再发布")
    return pub.publish(prepared, actor=actor)


def stage_upload(data: bytes) -> str:
    """Keep an uploaded file until its check job reads it: in the staging directory (shared by every
    node and Celery worker when there are several, ``data.versions.Store.staging``), mode 0600.
    Returns its reference (random; :func:`take_upload` reads the file once)."""
    store = versions.store_for(db.pointer_path())
    store.ensure_dirs()
    ref = secrets.token_hex(16)
    fd = os.open(store.staging / f"{ref}{UPLOAD_SUFFIX}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())  # another node's worker may read it next
    return ref


def take_upload(ref: str) -> bytes:
    """The file :func:`stage_upload` kept (removed as it is read); an unknown reference is a Chinese
    error. Files nobody took are removed with the old staged changes (``data.versions.cleanup``)."""
    if not (isinstance(ref, str) and len(ref) == 32 and ref.isalnum()):
        raise IntakeError(UPLOAD_GONE)
    path = versions.store_for(db.pointer_path()).staging / f"{ref}{UPLOAD_SUFFIX}"
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise IntakeError(UPLOAD_GONE) from exc
    path.unlink(missing_ok=True)
    return data


class current_version:  # noqa: N801 — used as a context manager, like open()
    """A read-only connection to the version being served (validation reads code lists from it)."""

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        path = versions.current(versions.store_for(db.pointer_path()))
        if path is None:
            raise IntakeError("尚无已发布的数据库，请先初始化（python -m data.demo 或 init）")
        self.con = duckdb.connect(str(path), read_only=True, config=db._CONFIG)
        return self.con

    def __exit__(self, *exc) -> None:
        self.con.close()
