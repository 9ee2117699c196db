"""Versioned database files behind one atomically switched pointer.

For ``COCKPIT_DB = data/cockpit.duckdb`` the layout is::

    data/cockpit.duckdb                       symlink → cockpit.versions/v000007.duckdb
    data/cockpit.versions/v000007.duckdb      one complete, checkpointed file per version
    data/cockpit.versions/staging/<token>.*   a prepared change, not yet published (several nodes:
                                              $COCKPIT_SHARED_DIR/staging/cockpit/, see Store.staging)
    data/cockpit.versions/.publish.lock       one publisher at a time
    data/cockpit.versions/SYNCED, .sync.lock  several nodes only: see data.replicate

A version file is written only while it is staged; once renamed into place it is never
written again. Publishing renames the staged file to its version name, then replaces the
pointer with ``os.replace`` (atomic on POSIX), so a reader opens either the old version or
the new one. A ``kill -9`` at any step leaves the pointer on a complete file; what it
leaves behind (a staged file, a version file never pointed to, a half-made link) is
removed by :func:`cleanup` at the next start.

A pointer that is a plain file (a database built before versioning) is adopted as version 1
by hard-linking it into the directory, so the switch stays one atomic rename.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_VERSION_FILE = re.compile(r"^v(\d{6})\.duckdb$")


class PublishConflict(RuntimeError):
    """Another publish changed the current version after this change was prepared."""


@dataclass(frozen=True)
class Store:
    """Where one database's versions live."""

    pointer: Path

    @property
    def name(self) -> str:
        """The registry's key (the pointer's stem): every node of a deployment shares it."""
        return self.pointer.stem

    @property
    def directory(self) -> Path:
        return self.pointer.with_name(f"{self.pointer.stem}.versions")

    @property
    def staging(self) -> Path:
        """Where prepared changes (and uploads waiting to be checked) wait: beside the versions on a
        single node; with several nodes (``$COCKPIT_SHARED_DIR``) in ``staging/<name>`` of the shared
        directory, so that any node and any Celery worker can check, publish or cancel them."""
        shared = shared_staging_root()
        return shared / self.name if shared is not None else self.directory / "staging"

    @property
    def staging_is_shared(self) -> bool:
        return shared_staging_root() is not None

    def version_file(self, number: int) -> Path:
        return self.directory / f"v{number:06d}.duckdb"

    def ensure_dirs(self) -> None:
        # private: the analytical files (and the staged uploads) are not for other local users
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            private_dir(self.staging)
        except OSError as exc:
            if not self.staging_is_shared:
                raise
            raise PublishConflict(f"共享目录中的暂存目录 {self.staging} 不可用（{exc.strerror or exc}），未作任何更改；"
                                  "请检查后重试") from exc


def shared_staging_root() -> Path | None:
    """``$COCKPIT_SHARED_DIR/staging``, or None on a single node."""
    root = os.environ.get("COCKPIT_SHARED_DIR", "").strip()
    return Path(root).absolute() / "staging" if root else None


def private_dir(path: Path) -> Path:
    """Create ``path`` (and the parents it needs) with mode 0700; an existing one is made 0700 too
    (it holds staged data: readable by its owner only)."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            pass
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def store_for(pointer: Path | str) -> Store:
    return Store(Path(pointer).absolute())


def version_number(path: Path | str | None) -> int | None:
    """The number of a version file (``v000007.duckdb`` → 7); None for other files."""
    if path is None:
        return None
    m = _VERSION_FILE.match(Path(path).name)
    return int(m.group(1)) if m else None


def current(store: Store) -> Path | None:
    """The file the pointer names now (resolved), or None when there is none."""
    p = store.pointer
    if p.is_symlink():
        target = Path(os.path.realpath(p))
        return target if target.exists() else None
    return p if p.exists() else None


def current_number(store: Store) -> int | None:
    return version_number(current(store))


def numbers(store: Store) -> list[int]:
    """Every version number with a file, ascending."""
    if not store.directory.exists():
        return []
    found = (version_number(f) for f in store.directory.iterdir())
    return sorted(n for n in found if n is not None)


def adopt_plain_file(store: Store) -> None:
    """Make a plain-file pointer version 1 (a hard link, then one atomic switch)."""
    p = store.pointer
    if not p.exists() or p.is_symlink():
        return
    store.ensure_dirs()
    first = store.version_file(max(numbers(store), default=0) + 1)
    os.link(p, first)
    switch(store, first)


def stage_copy(store: Store, token: str) -> Path:
    """A private copy of the current version to change (an empty path when there is none)."""
    store.ensure_dirs()
    staged = store.staging / f"{token}.duckdb"
    src = current(store)
    if src is not None:
        shutil.copyfile(src, staged)  # sendfile on Linux: no pass through Python
        os.chmod(staged, 0o600)
    return staged


def promote(store: Store, staged: Path, number: int) -> Path:
    """Rename a finished staged file to its version name; it is read-only from now on."""
    target = store.version_file(number)
    if target.exists():
        raise PublishConflict(f"版本文件已存在：{target.name}")
    os.chmod(staged, 0o400)
    try:
        os.replace(staged, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # the staged file is on the shared directory (another file system): copy, fsync, rename
        tmp = store.directory / f".{target.name}.promote-{os.getpid()}"
        shutil.copyfile(staged, tmp)
        os.chmod(tmp, 0o400)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        staged.unlink(missing_ok=True)
    fsync_dir(store.directory)
    return target


def switch(store: Store, target: Path) -> None:
    """Point the database at ``target`` in one atomic rename."""
    link = store.pointer.with_name(f".{store.pointer.name}.switch-{os.getpid()}")
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(os.path.relpath(target, store.pointer.parent), link)
    os.replace(link, store.pointer)
    fsync_dir(store.pointer.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def publish_lock(store: Store) -> Iterator[None]:
    """Hold the store's publish lock (an flock: released by the kernel if we die)."""
    store.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with flock(store.directory / ".publish.lock"):
        yield


@contextmanager
def flock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``path`` (created if missing), waiting for it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def cleanup(store: Store, published: set[int], *, staged_older_than: float = 6 * 3600) -> list[Path]:
    """Remove what an interrupted publish left: version files that were never published
    (the current one is always kept), half-made pointer links and staged files older
    than ``staged_older_than`` seconds (a clerk may still be reading a fresh preview).
    Returns the removed paths."""
    removed: list[Path] = []
    keep = published | {n for n in [current_number(store)] if n is not None}
    if store.directory.exists():
        for f in store.directory.iterdir():
            n = version_number(f)
            if n is not None and n not in keep:
                removed.append(f)
            elif f.name.endswith(".wal") and version_number(f.name[:-4]) is not None:
                removed.append(f)  # a version file is never written after promotion
            elif f.name.startswith(".v") and ".duckdb.promote-" in f.name:
                removed.append(f)  # a copy from the shared staging cut short
    now = time.time()
    if store.staging.exists():
        for f in store.staging.iterdir():
            try:
                old = now - f.stat().st_mtime > staged_older_than
            except FileNotFoundError:  # another node removed it (the staging is shared)
                continue
            if old and f.is_file():
                removed.append(f)
    for f in store.pointer.parent.glob(f".{store.pointer.name}.switch-*"):
        removed.append(f)
    for f in removed:
        f.unlink(missing_ok=True)
    return removed


def prune(store: Store, published: list[int], keep: int) -> list[int]:
    """Delete the files of published versions beyond the newest ``keep`` (never the current)."""
    cur = current_number(store)
    dropped = [n for n in sorted(published)[:-keep] if n != cur] if keep > 0 else []
    for n in dropped:
        store.version_file(n).unlink(missing_ok=True)
    return dropped
