"""Publish validated data as a new database version: the one write path.

Whoever starts it (the 数据管理 page, the CLI, a 填报 form, the demo generator):

1. :func:`prepare` copies the current version to a private staging file and, there, in one
   transaction: applies each sheet (replace its partitions, upsert by key, or update),
   extends the calendar, records freshness, checks the invariants and refreshes the
   aggregates of the months touched; then CHECKPOINTs. The preview (rows added, changed
   and removed per month and county; the province KPIs that move) is read from that staged
   file, so what a clerk reviews is exactly what will be published.
2. :func:`publish` takes the publish lock, checks that nothing was published since the
   change was prepared, renames the staged file to its version name and switches the
   pointer (:mod:`data.versions`). Serving processes open the new version on their next
   request.

A ``kill -9`` at any point leaves the pointer on the old version or the new one; what is
left over is removed by :func:`recover` at the next start.

With several nodes the staged change (file and preview) waits in the shared directory
(``$COCKPIT_SHARED_DIR/staging/<name>/``, 0700, files 0600: :attr:`data.versions.Store.staging`),
so a change checked on one node (or Celery worker) may be published or cancelled from any other;
:func:`publish` then copies it into the node's versions directory when the two are on different
file systems.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from data import audit, db, opstore, replicate, versions
from data.build import load_tables
from data.intake.apply import apply_sheet, record_freshness, touched_months
from data.intake.errors import IntakeError, Problem

KEEP_VERSIONS = int(os.environ.get("COCKPIT_KEEP_VERSIONS", "10"))
SQL_DIR = Path(__file__).resolve().parent / "sql"


@dataclass
class Prepared:
    """A change applied to a staged copy, waiting for 发布."""

    token: str
    families: list[str]
    base_version: int | None
    version: int
    import_id: int | None
    actor: str
    created_at: str
    diff: list[dict] = field(default_factory=list)        # period, county_code, added, changed, removed
    kpi_moves: list[dict] = field(default_factory=list)   # kpi, name, month, period, before, after, unit
    warnings: list[str] = field(default_factory=list)
    rows: int = 0

    @property
    def unchanged(self) -> bool:
        return not self.diff

    def totals(self) -> dict[str, int]:
        return {k: sum(int(d[k]) for d in self.diff) for k in ("added", "changed", "removed")}


def _store() -> versions.Store:
    return versions.store_for(db.pointer_path())


def _key(store: versions.Store) -> str:
    """The registry's name for a store: the pointer's name, so that an install can move and
    every node of a deployment (each with its own local copy) shares one version history."""
    return store.pointer.stem


def _meta_path(store: versions.Store, token: str) -> Path:
    return store.staging / f"{token}.json"


def _write_meta(store: versions.Store, prepared: Prepared) -> None:
    path = _meta_path(store, prepared.token)
    tmp = path.with_suffix(".json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # private, like the staged file
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(asdict(prepared), ensure_ascii=False, default=str))
    os.replace(tmp, path)


def load_prepared(token: str) -> Prepared:
    """A prepared change by its token (from any process); an unknown token is a 4xx-style error."""
    if not token or not token.isalnum() or len(token) > 64:
        raise IntakeError("发布凭据无效，请重新上传并校验")
    path = _meta_path(_store(), token)
    if not path.exists():
        raise IntakeError("该次校验结果已过期或已处理，请重新上传并校验")
    return Prepared(**json.loads(path.read_text(encoding="utf-8")))


# ---------------------------------------------------------------- prepare


def next_version(store: versions.Store) -> int:
    """Above every number this node, the registry and (several nodes) the shared directory know:
    version numbers are global across nodes and never reused there."""
    registered = [v["version"] for v in opstore.versions(_key(store))]
    shared = replicate.all_numbers(replicate.shared_dir())
    return max([*versions.numbers(store), *registered, *shared], default=0) + 1


def prepare(frames: Mapping[str, Mapping[str, object]], *, actor: str, import_id: int | None = None,
            reference: dict[str, pd.DataFrame] | None = None, validate=None, data_version: str | None = None,
            updated_at: datetime | None = None, rebuild_aggregates: bool = False, scope=None) -> Prepared:
    """Apply ``frames`` (family → sheet key → validated DataFrame or list of chunks) to a staged
    copy of the current version and return the preview.

    ``reference`` (table → rows) starts from an empty file instead of the current version,
    filled with those tables first (the demo's regions, departments, targets); ``validate(con,
    family, sheets)``, when given, validates each family's frames against the staged file just
    before they are applied (so spending sees the projects applied before it)."""
    store = _store()
    store.ensure_dirs()
    versions.adopt_plain_file(store)
    base = versions.current_number(store)
    token = secrets.token_hex(12)
    staged = store.staging / f"{token}.duckdb" if reference is not None else versions.stage_copy(store, token)
    number = next_version(store)
    stamp = updated_at or datetime.now().replace(microsecond=0)
    try:
        with db.connect_writer(staged) as con:
            db.migrate(con)
            if reference is not None:
                load_tables(con, reference)
            diff, touched, rows = _apply(con, frames, version=number, updated_at=stamp, rebuild=rebuild_aggregates,
                                         data_version=data_version or f"v{number}-{token[:8]}", validate=validate)
            con.execute("CHECKPOINT")
            diff = _with_region_names(con, diff)
        prepared = Prepared(token=token, families=sorted(frames), base_version=base, version=number,
                            import_id=import_id, actor=actor, created_at=stamp.isoformat(), diff=diff, rows=rows)
        if reference is None and prepared.diff:
            prepared.kpi_moves = kpi_moves(versions.current(store), staged, sorted(touched), scope, sorted(frames))
        _write_meta(store, prepared)
        return prepared
    except BaseException:
        _remove_staged(store, token)
        raise


def prepare_frames(families: dict[str, dict[str, object]], *, actor: str, kind: str, scope=None,
                   reference: dict[str, pd.DataFrame] | None = None, data_version: str | None = None,
                   updated_at: datetime | None = None, today: date | None = None) -> Prepared:
    """Validate frames that did not come from a file (the demo, a 填报 grid) and prepare them,
    recording the attempt in the import history; invalid frames raise :class:`IntakeError`."""
    from data.intake.spec import load_families
    from data.intake.validate import ValidationContext, validate_frames
    from data.scope import Scope
    from metrics.freshness import today as clock

    labels = "、".join(load_families()[f].label for f in families)
    import_id = opstore.log_start(kind=kind, source_name=f"{kind}：{labels}", actor=actor, family=",".join(families))
    warnings: list[str] = []

    def validate(con, family, sheets):
        root = db.scalar(con, "SELECT code FROM region WHERE parent_code IS NULL")
        ctx = ValidationContext(con=con, scope=scope or Scope.province(root), today=today or clock())
        report = validate_frames(family, sheets, ctx, source=kind)
        if report.errors:
            opstore.log_update(import_id, outcome="已拒绝", summary=summary_of(report))
            raise IntakeError(report.errors)
        warnings.extend(str(w) for w in report.warnings)
        return report.frames

    try:
        prepared = prepare(families, actor=actor, import_id=import_id, reference=reference, validate=validate,
                           data_version=data_version, updated_at=updated_at, scope=scope)
    except IntakeError:
        raise
    except BaseException as exc:
        opstore.log_update(import_id, outcome="失败", summary={"error": type(exc).__name__})
        raise
    prepared.warnings = warnings
    _write_meta(_store(), prepared)
    opstore.log_update(import_id, outcome="待发布", rows=prepared.rows,
                       summary={"totals": prepared.totals(), "warnings": len(warnings), "first": warnings[:20]})
    return prepared


def summary_of(report) -> dict[str, Any]:
    """What the import history keeps of a validation report."""
    return {"errors": len(report.errors), "warnings": len(report.warnings),
            "first": [str(p) for p in [*report.errors, *report.warnings][:20]]}


def _with_region_names(con: duckdb.DuckDBPyConnection, diff: list[dict]) -> list[dict]:
    names = {code: (name, parent) for code, name, parent in
             con.execute("SELECT code, name, parent_code FROM region").fetchall()}
    for d in diff:
        name, parent = names.get(d["county_code"], (None, None))
        d["county_name"] = name
        d["city_code"] = parent
        d["city_name"] = names.get(parent, (None, None))[0] if parent else None
    return diff


# registers first: a payment's project must exist when the payments are checked
FAMILY_ORDER = ("services", "projects", "spending", "hotline", "data_resources", "tasks")


def _apply(con: duckdb.DuckDBPyConnection, frames: Mapping[str, Mapping[str, object]], *, version: int,
           data_version: str, updated_at: datetime, rebuild: bool = False,
           validate=None) -> tuple[list[dict], set[date], int]:
    from data.intake.spec import load_families

    families = load_families()
    con.execute("BEGIN TRANSACTION")
    try:
        # the KPI results are refreshed in part only if they follow the data this change starts from
        previous = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchall()
        changes = []
        for family in sorted(frames, key=FAMILY_ORDER.index):
            sheets = frames[family] if validate is None else validate(con, family, frames[family])
            for sheet in families[family].sheets:
                if sheet.key in sheets:
                    changes += apply_sheet(con, sheet, sheets[sheet.key])
        touched, agg_months = touched_months(con, changes)
        con.execute("CREATE OR REPLACE TEMP TABLE _touched_months (month DATE)")
        if touched:
            con.executemany("INSERT INTO _touched_months VALUES (?)", [[m] for m in sorted(touched)])
        for family in frames:
            record_freshness(con, family, updated_at=updated_at, version=version)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('data_version', ?)", [data_version])
        con.execute("INSERT OR REPLACE INTO meta VALUES ('published_at', ?)", [updated_at.isoformat()])
        _check(con, "invariants.sql")
        from metrics.materialize import materialize

        materialize(con, months=None if rebuild else agg_months)
        _check(con, "aggregates_check.sql")
        from metrics.results import refresh as refresh_results

        refresh_results(con, None if rebuild else changes, previous_data_version=previous[0][0] if previous else None)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return [d for c in changes for d in c.diff], touched, sum(c.rows for c in changes)


def _check(con: duckdb.DuckDBPyConnection, name: str) -> None:
    bad = con.execute(db.read_sql(SQL_DIR / name)).fetchall()
    if bad:
        lines = [f"{rule}：{detail}" for rule, detail in bad]
        raise IntakeError([Problem("", None, None, f"数据一致性检查未通过，未发布：{line}") for line in lines])


def kpi_moves(before: Path | None, after: Path, months: list[date], scope=None,
              families: list[str] | None = None) -> list[dict]:
    """The KPIs whose value differs between two files, for the latest touched month (累计 and
    当月), read through the metric engine itself: at the uploader's region (their one region,
    else the province) as the uploader may see it. Only the KPIs of the families changed
    are computed (others cannot move)."""
    from data.scope import Scope
    from metrics.catalogue import load_catalogue
    from metrics.engine import compute
    from metrics.freshness import load_schedule
    from metrics.regions import as_of, root_region

    if before is None:
        return []
    fed = load_schedule().facts
    kpis = [k for k in load_catalogue().kpis.values() if families is None or fed.get(k.fact) in families]
    with db.reading(after):
        month = max(months) if months else as_of()[1]
        root = root_region()
    scope = scope or Scope.province(root)
    region = scope.regions[0] if len(scope.regions) == 1 else root

    def values(path: Path) -> dict[tuple[str, str], Any]:
        # (KPI, period) → its value: a float, or NaN/None where the month has no data
        with db.reading(path):
            if month > as_of()[1]:
                return {}
            out = {}
            for period in ("ytd", "month"):
                ids = [k.id for k in kpis if period in k.periods]
                if ids:
                    df = compute(ids, [region], month, period, scope=scope, snapshot=False)
                    out.update({(r["kpi_id"], period): r["value"] for r in df.to_dict("records")})
            return out

    old, new = values(before), values(after)
    by_id = {k.id: k for k in kpis}
    moves = []
    for (kpi_id, period), value in new.items():
        was = old.get((kpi_id, period))
        if _missing(was) and _missing(value):
            continue
        if was is None or value is None or _missing(was) or _missing(value) or round(was, 6) != round(value, 6):
            k = by_id[kpi_id]
            moves.append({"kpi": kpi_id, "name": k.name, "month": month.strftime("%Y-%m"), "period": period,
                          "period_name": "累计" if period == "ytd" else "当月",
                          "before": None if was is None or _missing(was) else float(was),
                          "after": None if _missing(value) else float(value), "unit": k.unit})
    return sorted(moves, key=lambda m: (m["period"] != "ytd", m["kpi"]))


def _missing(x) -> bool:
    return x is None or x != x  # None or NaN


# ---------------------------------------------------------------- publish


@dataclass
class Published:
    version: int
    data_version: str
    previous: int | None
    rows: int = 0


def publish(prepared: Prepared | str, *, actor: str) -> Published:
    """Make a prepared change the current version (atomic); refuse when another publish came first.

    With several nodes (``COCKPIT_SHARED_DIR``, :mod:`data.replicate`) the shared lock is held
    too: a node behind the shared CURRENT is refused (another node published since), a number
    taken elsewhere is refused, and after the switch the version is handed over to the others."""
    store = _store()
    prepared = load_prepared(prepared) if isinstance(prepared, str) else prepared
    token = prepared.token
    staged = store.staging / f"{token}.duckdb"
    shared = replicate.shared_dir()
    with versions.publish_lock(store), replicate.lock(shared):
        if shared is not None:
            why = replicate.refusal(store, shared, keep=KEEP_VERSIONS)
            taken = [v["version"] for v in opstore.versions(_key(store))] + replicate.all_numbers(shared)
            if why is None and prepared.version <= max(taken, default=0):
                why = f"版本号 v{prepared.version} 已被其他节点使用，请"
            if why is not None:
                _remove_staged(store, token)
                _refused(actor, prepared, why)
                raise versions.PublishConflict(why + "重新上传并校验")
        current = versions.current_number(store)
        if prepared.base_version != current:
            _remove_staged(store, token)
            _refused(actor, prepared, "校验后数据已被更新")
            raise versions.PublishConflict(
                f"校验后数据已被更新（当前版本 v{current}，校验基于 v{prepared.base_version}），请重新上传并校验")
        if not staged.exists():
            _refused(actor, prepared, "校验结果已过期")
            raise IntakeError("该次校验结果已过期，请重新上传并校验")
        opstore.register_version(_key(store), prepared.version, status="发布中",
                                 import_id=prepared.import_id, data_version_id="")
        target = versions.promote(store, staged, prepared.version)
        versions.switch(store, target)
        opstore.set_version_status(_key(store), prepared.version, "已发布")
        _meta_path(store, token).unlink(missing_ok=True)
        if prepared.import_id is not None:
            opstore.log_update(prepared.import_id, outcome="已发布", version=prepared.version)
        data_version = _data_version_of(target)
        if shared is not None:
            replicate.hand_over_switched(store, shared, prepared.version, data_version=data_version,
                                         keep=KEEP_VERSIONS)
        _prune(store)
    published = Published(prepared.version, data_version, current, prepared.rows)
    _audit("发布", actor, published, import_id=prepared.import_id,
           months=sorted({str(d["period"])[:7] for d in prepared.diff if d.get("period")}))
    return published


def upgrade(*, actor: str) -> Published | None:
    """Publish the current data again when its schema (migrations), its aggregate tables or its
    KPI results follow older code (or are missing); None when it is up to date."""
    from metrics.materialize import aggregates_version
    from metrics.results import results_state, results_version

    store = _store()
    cur = versions.current(store)
    if cur is None:
        return None
    try:
        con = duckdb.connect(str(cur), read_only=True, config=db._CONFIG)
    except duckdb.IOException:
        return None  # another process holds the file for writing: leave it alone
    try:
        applied = {r[0] for r in con.execute("SELECT version FROM schema_version").fetchall()}
        row = con.execute("SELECT value FROM meta WHERE key = 'aggregates_version'").fetchone()
        present, version, for_data, data = results_state(con)
    finally:
        con.close()
    results_current = present and version == results_version() and for_data == data
    if applied >= {v for v, _, _ in db.migrations()} and row and row[0] == aggregates_version() and results_current:
        return None
    import_id = opstore.log_start(kind="升级", source_name="结构与汇总表升级", actor=actor,
                                  base_version=versions.current_number(store))
    prepared = prepare({}, actor=actor, import_id=import_id, rebuild_aggregates=True)
    return publish(prepared, actor=actor)


def discard(token: str) -> None:
    """Drop a prepared change (the clerk cancelled)."""
    store = _store()
    prepared = load_prepared(token)
    _remove_staged(store, token)
    if prepared.import_id is not None:
        opstore.log_update(prepared.import_id, outcome="已放弃")
    if not prepared.unchanged:
        audit.record("放弃发布", actor=prepared.actor, outcome="成功", target=f"校验 #{prepared.import_id}")


def rollback(version: int, *, actor: str) -> Published:
    """Point the database back at an earlier published version (itself recorded in the history).
    With several nodes, only a node in step with the shared CURRENT may, and the version is handed
    over like a publish (the others switch back too)."""
    store = _store()
    shared = replicate.shared_dir()
    with versions.publish_lock(store), replicate.lock(shared):
        why = replicate.refusal(store, shared, keep=KEEP_VERSIONS) if shared is not None else None
        if why is not None:
            raise versions.PublishConflict(why + "重试回滚")
        known = {v["version"]: v for v in opstore.versions(_key(store))}
        target = store.version_file(version)
        if known.get(version, {}).get("status") != "已发布" or not target.exists():
            kept = ", ".join(f"v{n}" for n in available_versions())
            raise IntakeError(f"版本 v{version} 不存在或已清理；可回滚的版本：{kept or '无'}")
        current = versions.current_number(store)
        import_id = opstore.log_start(kind="回滚", source_name=f"回滚至 v{version}", actor=actor,
                                      base_version=current)
        versions.switch(store, target)
        opstore.log_update(import_id, outcome="已发布", version=version)
        data_version = _data_version_of(target)
        if shared is not None:
            replicate.hand_over_switched(store, shared, version, data_version=data_version, keep=KEEP_VERSIONS)
    published = Published(version, data_version, current)
    _audit("回滚", actor, published, import_id=import_id)
    return published


def _refused(actor: str, prepared: Prepared, why: str) -> None:
    audit.record("发布", actor=actor, outcome="失败", target=f"校验 #{prepared.import_id}", detail={"reason": why})


def _audit(action: str, actor: str, published: Published, *, import_id: int | None,
           months: list[str] | None = None) -> None:
    """Publishes and rollbacks are audited (等保), whoever starts them: page, CLI, demo or upgrade."""
    audit.record(action, actor=actor, outcome="成功", target=f"v{published.previous} → v{published.version}",
                 month=months[-1] if months else None,
                 detail={"import_id": import_id, "data_version": published.data_version, "rows": published.rows,
                         "months": months or []})


def available_versions() -> list[int]:
    """Published versions whose files are kept, newest first."""
    store = _store()
    on_disk = set(versions.numbers(store))
    return [v["version"] for v in opstore.versions(_key(store))
            if v["status"] == "已发布" and v["version"] in on_disk]


def _data_version_of(path: Path) -> str:
    con = duckdb.connect(str(path), read_only=True, config=db._CONFIG)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        return row[0] if row else "unversioned"
    finally:
        con.close()


def _prune(store: versions.Store) -> None:
    published = [v["version"] for v in opstore.versions(_key(store)) if v["status"] == "已发布"]
    for n in versions.prune(store, published, KEEP_VERSIONS):
        opstore.set_version_status(_key(store), n, "已清理")


def _remove_staged(store: versions.Store, token: str) -> None:
    for suffix in (".duckdb", ".duckdb.wal", ".json", ".json.tmp"):
        (store.staging / f"{token}{suffix}").unlink(missing_ok=True)


def recover(*, at_start: bool = True) -> list[Path]:
    """Settle what an interrupted publish left (the pointer is the truth) and remove orphan
    files; at a start, prepared previews are dropped too (their clerk must upload again).
    Returns the removed paths.

    With several nodes the registry is shared, so the truth is the shared CURRENT, not this
    node's pointer: a version this node switched to but never handed over is handed over first
    (or, into an empty shared directory, this node's data seeds it); then a 发布中 row is 已发布
    only if it is CURRENT (another node's interrupted publish is marked 已放弃 here and set back
    to 已发布 by that node's own hand-over, should it still come); only the node handing a version
    over registers it. At a start the node then catches up with CURRENT."""
    store = _store()
    if not store.directory.exists():
        return []
    shared = replicate.shared_dir()
    with versions.publish_lock(store), replicate.lock(shared):
        cur = versions.current_number(store)
        live = cur
        if shared is not None:
            replicate.push_pending(store, shared, keep=KEEP_VERSIONS, seed=True)
            handed = replicate.read_current(shared)
            live = handed.version if handed is not None else None
        for v in opstore.versions(_key(store)):
            if v["status"] == "发布中":
                opstore.set_version_status(_key(store), v["version"],
                                           "已发布" if v["version"] == live else "已放弃")
        if shared is None and cur is not None and cur not in {v["version"] for v in opstore.versions(_key(store))}:
            opstore.register_version(_key(store), cur, status="已发布", import_id=None,
                                     data_version_id="")  # adopted from a plain file
        published = {v["version"] for v in opstore.versions(_key(store)) if v["status"] == "已发布"}
        if live is not None:
            published.add(live)
        # a shared staging holds the other nodes' fresh previews too: only old leftovers go then
        fresh_start = at_start and not store.staging_is_shared
        removed = versions.cleanup(store, published, staged_older_than=0 if fresh_start else 6 * 3600)
    if shared is not None and at_start:
        replicate.sync(store, shared, keep=KEEP_VERSIONS)
    return removed


def reset_store(pointer: Path) -> None:
    """Remove a database and all its versions (the demo's ``--force``)."""
    store = versions.store_for(pointer)
    if store.pointer.is_symlink() or store.pointer.exists():
        store.pointer.unlink()
    shutil.rmtree(store.directory, ignore_errors=True)
