"""Data versions replicated across app nodes through a shared hand-over directory.

A single node (``COCKPIT_SHARED_DIR`` unset) needs none of this. With several nodes, each keeps
its own local copy of the versioned file (:mod:`data.versions`), and ``COCKPIT_SHARED_DIR``
names a directory every node reaches (NFS in production)::

    $COCKPIT_SHARED_DIR/CURRENT          the version in force: seq, store, version, data_version, sha256
    $COCKPIT_SHARED_DIR/v000008.duckdb   the files handed over (the newest kept, and CURRENT's)
    $COCKPIT_SHARED_DIR/.publish.lock    one publisher or rollback at a time, across all nodes
    <stem>.versions/SYNCED               on each node: the CURRENT it last applied or wrote

A publish or rollback (:mod:`data.intake.publish`) holds the node's lock, then the shared one;
a node whose SYNCED is not the shared CURRENT is behind and may not change anything. After the
local switch the change is handed over: the file (temp name, fsync, rename), then CURRENT with
the next sequence number (temp, fsync, rename), then SYNCED. The sequence number, not the
version number, orders hand-overs, so a rollback to an older number propagates like a publish.

A follower on each node (``python -m data.replicate follow``) sees a CURRENT other than its
SYNCED, copies the file into the local versions directory (temp, fsync, sha256 checked, 0400,
rename) and switches the pointer with :func:`versions.switch`; serving processes pick it up on
their next request. Every step is repeatable, so a ``kill -9`` at any moment leaves the old or
the new version served and the next sync completes it. A node that switched without handing
over (its publisher was killed in between) is *pending*: its follower, its next start
(:func:`data.intake.publish.recover`) or its next publish hands the version over.

Followers never register versions: the registry (``data_version`` in the shared operational
store) is written by the node that publishes. The one registry write a follower can make is
finishing its own node's interrupted publish (the version it serves is marked 已发布).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

from data import versions

_CHUNK = 4 << 20
log = logging.getLogger(__name__)


class ReplicationError(versions.PublishConflict):
    """The shared directory cannot be used now (unreachable, inconsistent); nothing was changed."""


@dataclass(frozen=True)
class Record:
    """One hand-over: the shared CURRENT, and each node's SYNCED."""

    seq: int
    store: str
    version: int
    data_version: str
    sha256: str
    size: int
    at: str
    node: str

    def same(self, other: Record | None) -> bool:
        # the sequence alone could repeat if the shared directory were recreated
        return other is not None and (self.seq, self.version, self.sha256) == (other.seq, other.version, other.sha256)


@dataclass(frozen=True)
class Shared:
    """The hand-over directory all nodes reach."""

    root: Path

    @property
    def current_path(self) -> Path:
        return self.root / "CURRENT"

    def version_file(self, number: int) -> Path:
        return self.root / f"v{number:06d}.duckdb"

    def numbers(self) -> list[int]:
        """Every version number with a file here, ascending."""
        if not self.root.exists():
            return []
        return sorted(n for n in (versions.version_number(f) for f in self.root.iterdir()) if n is not None)


def shared_dir() -> Shared | None:
    """``$COCKPIT_SHARED_DIR``, or None on a single node."""
    root = os.environ.get("COCKPIT_SHARED_DIR", "").strip()
    return Shared(Path(root).absolute()) if root else None


def keep_versions() -> int:
    return int(os.environ.get("COCKPIT_KEEP_VERSIONS", "10"))


def synced_path(store: versions.Store) -> Path:
    return store.directory / "SYNCED"


def read_record(path: Path) -> Record | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Record(**{f.name: raw[f.name] for f in fields(Record)})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReplicationError(f"无法读取复制记录 {path}（{type(exc).__name__}）：请管理员检查该文件") from exc


def read_current(shared: Shared) -> Record | None:
    return read_record(shared.current_path)


def all_numbers(shared: Shared | None) -> list[int]:
    """The version numbers the shared directory knows (files and CURRENT): new numbers go above them."""
    if shared is None:
        return []
    current = read_current(shared)
    return [*shared.numbers(), *([current.version] if current else [])]


@dataclass(frozen=True)
class State:
    local: int | None       # the version this node's pointer names
    synced: Record | None   # the CURRENT this node last applied or wrote
    current: Record | None  # the shared CURRENT

    @property
    def pending(self) -> bool:
        """This node switched to a version it has not handed over (its publisher was killed)."""
        return (self.local is not None and self.current is not None and self.current.same(self.synced)
                and self.local != self.current.version)

    @property
    def unseeded(self) -> bool:
        """The shared directory is empty and this node has data (the first node of a deployment)."""
        return self.current is None and self.local is not None

    @property
    def behind(self) -> bool:
        """Another node handed over a change this node has not applied."""
        return self.current is not None and not self.current.same(self.synced)


def state(store: versions.Store, shared: Shared) -> State:
    return State(versions.current_number(store), read_record(synced_path(store)), read_current(shared))


@contextmanager
def lock(shared: Shared | None) -> Iterator[None]:
    """Hold the shared publish lock (nothing on a single node). Taken after the node's own lock."""
    with ExitStack() as stack:
        if shared is not None:
            try:
                shared.root.mkdir(mode=0o700, parents=True, exist_ok=True)
                stack.enter_context(versions.flock(shared.root / ".publish.lock"))
            except OSError as exc:
                raise ReplicationError(f"共享目录 {shared.root} 不可用（{exc.strerror or exc}），未作任何更改；"
                                       "请检查后重试") from exc
        yield


def refusal(store: versions.Store, shared: Shared, *, keep: int) -> str | None:
    """Why this node may not publish or roll back now, a sentence the caller ends with what to
    retry (None: it may). Hands over this node's own unfinished change first. The caller holds
    the node's lock and the shared lock."""
    push_pending(store, shared, keep=keep, seed=True)
    st = state(store, shared)
    if st.behind and st.current is not None:
        local = f"v{st.local}" if st.local is not None else "无数据"
        return (f"本节点的数据版本（{local}）落后于其他节点已发布的 v{st.current.version}，"
                "请待本节点同步完成（通常几秒）后")
    return None


def push_pending(store: versions.Store, shared: Shared, *, keep: int, seed: bool) -> Record | None:
    """Hand over the version this node serves when it never was (``seed``: also into an empty
    shared directory). The caller holds the node's lock and the shared lock."""
    st = state(store, shared)
    number = st.local
    if number is None or not (st.pending or (seed and st.unseeded)):
        return None
    data_version = _data_version(store.version_file(number))
    _settle_registry(store.name, number, data_version)
    return hand_over(store, shared, number, data_version=data_version, keep=keep)


def _settle_registry(key: str, number: int, data_version: str) -> None:
    """The version a node serves and hands over is published (its publisher may have died first)."""
    from data import opstore

    row = next((v for v in opstore.versions(key) if v["version"] == number), None)
    if row is None:  # adopted from a plain file
        opstore.register_version(key, number, status="已发布", import_id=None, data_version_id=data_version)
    elif row["status"] != "已发布":
        opstore.set_version_status(key, number, "已发布")


def hand_over(store: versions.Store, shared: Shared, number: int, *, data_version: str, keep: int) -> Record:
    """Copy this node's version ``number`` into the shared directory and make it CURRENT.
    The caller holds the node's lock and the shared lock."""
    previous = read_current(shared)
    _check_store(previous, store)
    try:
        for f in shared.root.glob(".*.tmp"):  # what a killed hand-over left (we hold the lock: none is running)
            f.unlink(missing_ok=True)
        target = shared.version_file(number)
        tmp = shared.root / f".{target.name}.tmp"
        digest, size = _copy_hashed(store.version_file(number), tmp)
        os.chmod(tmp, 0o400)
        _place(tmp, target)
        record = Record(seq=(previous.seq if previous else 0) + 1, store=store.name, version=number,
                        data_version=data_version, sha256=digest, size=size,
                        at=datetime.now().isoformat(timespec="seconds"), node=socket.gethostname())
        _write_record(shared.current_path, record)
        _write_record(synced_path(store), record)
        for n in shared.numbers()[:-keep] if keep > 0 else []:
            if n != number:
                shared.version_file(n).unlink(missing_ok=True)
    except OSError as exc:
        raise ReplicationError(f"v{number} 未能交接到共享目录 {shared.root}（{exc.strerror or exc}）") from exc
    return record


def hand_over_switched(store: versions.Store, shared: Shared, number: int, *, data_version: str,
                       keep: int) -> Record | None:
    """:func:`hand_over` for a change already in force on this node: a failure is logged, not raised
    (the publish stands); the node stays pending and its follower, next start or next publish
    hands the version over."""
    try:
        return hand_over(store, shared, number, data_version=data_version, keep=keep)
    except (OSError, ReplicationError):
        log.exception("v%s 已在本节点生效，但交接到共享目录 %s 失败：将由本节点的 follow、下次启动或下次发布补交",
                      number, shared.root)
        return None


def sync(store: versions.Store, shared: Shared, *, keep: int | None = None) -> str | None:
    """Bring this node to the shared CURRENT, or hand over its own interrupted change.
    Returns what was done (Chinese), None when there was nothing to do."""
    keep = keep_versions() if keep is None else keep
    store.ensure_dirs()
    with versions.flock(store.directory / ".sync.lock"):
        for f in store.directory.glob(".v*.duckdb.sync"):  # a killed sync's copy
            f.unlink(missing_ok=True)
        for _ in range(3):
            st = state(store, shared)
            if st.pending:
                with versions.publish_lock(store), lock(shared):
                    pushed = push_pending(store, shared, keep=keep, seed=False)
                return f"已将本节点的 v{pushed.version} 交接到共享目录" if pushed else None
            if not st.behind or st.current is None:
                return None
            try:
                done = _apply(store, shared, st, keep)
            except FileNotFoundError as exc:
                if read_current(shared) == st.current:
                    raise ReplicationError(f"共享目录缺少 v{st.current.version} 的文件：请管理员检查") from exc
                continue  # CURRENT moved on (its old file pruned) while we copied: follow the new one
            except OSError as exc:
                raise ReplicationError(f"未能从共享目录同步 v{st.current.version}（{exc.strerror or exc}），"
                                       "本节点仍为原版本；稍后重试") from exc
            if done is not None:
                return done
    return None


def _apply(store: versions.Store, shared: Shared, st: State, keep: int) -> str | None:
    wanted = st.current
    if wanted is None:  # nothing handed over yet: nothing to follow
        return None
    _check_store(wanted, store)
    if store.pointer.exists() and not store.pointer.is_symlink():
        raise ReplicationError(f"本节点的数据库 {store.pointer} 是普通文件而非版本指针，未同步：请管理员移走它")
    target = store.version_file(wanted.version)
    if target.exists():  # a rollback to a version this node kept, or a sync killed after the copy
        if _sha256(target) != wanted.sha256:
            raise ReplicationError(f"本节点的 {target.name} 与共享目录中的同号版本内容不同，未同步："
                                   "请管理员核对（各节点须共用一个运维库 COCKPIT_OPSTORE_URL）")
    else:
        tmp = store.directory / f".{target.name}.sync"
        digest, _ = _copy_hashed(shared.version_file(wanted.version), tmp)
        if digest != wanted.sha256:
            tmp.unlink(missing_ok=True)
            raise ReplicationError(f"从共享目录复制的 v{wanted.version} 校验和不符，未同步；稍后重试")
        os.chmod(tmp, 0o400)
        _place(tmp, target)
    with versions.publish_lock(store):
        if read_record(synced_path(store)) != st.synced or versions.current_number(store) != st.local:
            return None  # this node changed meanwhile: nothing switched, look again
        versions.switch(store, target)
        _write_record(synced_path(store), wanted)
    versions.prune(store, versions.numbers(store), keep)
    return f"已同步到 v{wanted.version}（数据版本 {wanted.data_version}）"


def fetch(pointer: Path | str) -> bool:
    """A new node of a multi-node deployment starts from the shared CURRENT (before it would build
    a demo of its own); returns whether it fetched."""
    shared = shared_dir()
    if shared is None or read_current(shared) is None:
        return False
    store = versions.store_for(pointer)
    return sync(store, shared) is not None and versions.current(store) is not None


def _check_store(record: Record | None, store: versions.Store) -> None:
    if record is not None and record.store != store.name:
        raise ReplicationError(f"共享目录属于数据库「{record.store}」，本节点的是「{store.name}」："
                               "请检查 COCKPIT_SHARED_DIR")


def _copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy ``src`` to a new private file ``dst`` durably; return its sha256 and size."""
    digest = hashlib.sha256()
    size = 0
    dst.unlink(missing_ok=True)
    with open(src, "rb") as fin, open(dst, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as fout:
        while chunk := fin.read(_CHUNK):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return digest.hexdigest(), size


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _place(tmp: Path, target: Path) -> None:
    os.replace(tmp, target)
    versions.fsync_dir(target.parent)


def _write_record(path: Path, record: Record) -> None:
    """Replace a record atomically (temp, fsync, rename); callers hold the lock that guards it."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", opener=lambda p, f: os.open(p, f, 0o600)) as f:
        json.dump(asdict(record), f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    versions.fsync_dir(path.parent)


def _data_version(path: Path) -> str:
    import duckdb

    from data.db import _CONFIG

    con = duckdb.connect(str(path), read_only=True, config=_CONFIG)
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        return row[0] if row else "unversioned"
    finally:
        con.close()


# ---------------------------------------------------------------- command line


def _stamp() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def follow(store: versions.Store, shared: Shared, *, interval: float) -> None:
    """Sync every ``interval`` seconds until killed; report changes and (once each) errors."""
    last_error = None
    while True:
        try:
            done = sync(store, shared)
            if done:
                print(f"{_stamp()} {done}", flush=True)
            last_error = None
        except Exception as exc:  # noqa: BLE001 — a follower reports and retries, it never stops
            text = str(exc) if isinstance(exc, ReplicationError) else f"同步失败：{type(exc).__name__}：{exc}"
            if text != last_error:
                print(f"{_stamp()} {text}", file=sys.stderr, flush=True)
            last_error = text
        time.sleep(interval)


def _status(store: versions.Store, shared: Shared) -> str:
    st = state(store, shared)
    local = f"v{st.local}" if st.local is not None else "无数据"
    cur = st.current
    lines = [f"本节点：{store.pointer} → {local}",
             "共享目录：" + (f"{shared.root} → v{cur.version}（第 {cur.seq} 次交接，数据版本 {cur.data_version}，"
                          f"{cur.node} 于 {cur.at}）" if cur else f"{shared.root}（尚无版本）")]
    if st.pending or st.unseeded:
        lines.append("状态：本节点的版本尚未交接到共享目录（sync 或下次启动、发布时交接）")
    elif st.behind:
        lines.append("状态：待同步")
    else:
        lines.append("状态：已同步")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from data.db import pointer_path

    ap = argparse.ArgumentParser(prog="python -m data.replicate", description="多节点部署：数据版本的复制")
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("follow", help="持续跟随共享目录的当前版本（每个节点运行一个）")
    f.add_argument("--interval", type=float, default=1.0, help="检查间隔（秒，默认 1）")
    sub.add_parser("sync", help="同步一次")
    sub.add_parser("status", help="本节点与共享目录的版本")
    args = ap.parse_args(argv)
    shared = shared_dir()
    if shared is None:
        print("错误：未设置 COCKPIT_SHARED_DIR（单节点部署无需复制）", file=sys.stderr)
        return 2
    if args.cmd == "follow" and not args.interval > 0:
        print("错误：--interval 应为正数", file=sys.stderr)
        return 2
    store = versions.store_for(pointer_path())
    try:
        if args.cmd == "follow":
            follow(store, shared, interval=args.interval)
        elif args.cmd == "sync":
            print(sync(store, shared) or "已是最新，无需同步")
        else:
            print(_status(store, shared))
    except ReplicationError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
