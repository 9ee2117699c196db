"""Settle the served database before a start, and never build demo data: ``python -m data.prepare``.

A new node fetches the current version from the hand-over directory; an interrupted publish is
finished or rolled back; a database built by older code is upgraded through the publish path.
Production (gunicorn, ``scripts/serve.sh``) runs only this; the demo is prepared explicitly by
``python -m data.demo ensure`` (``scripts/start.sh``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from data.db import pointer_path

NO_DATABASE = ("没有数据库：{path}。正式部署请先发布数据（python -m data.intake …）；"
               "试用请运行 python -m data.demo ensure（或 bash scripts/start.sh）")


@contextmanager
def pointing_at(target: Path | str) -> Iterator[None]:
    """Run the intake against ``target`` (it reads the pointer from ``$COCKPIT_DB``)."""
    saved = os.environ.get("COCKPIT_DB")
    os.environ["COCKPIT_DB"] = str(target)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("COCKPIT_DB", None)
        else:
            os.environ["COCKPIT_DB"] = saved


def refresh_aggregates(path: Path | str) -> bool:
    """Publish an upgraded version when the schema or the aggregate tables are stale; return
    whether it did. The version being served is never written."""
    from data.intake.publish import upgrade

    with pointing_at(path):
        return upgrade(actor="启动升级") is not None


def prepare_database(path: Path | str | None = None) -> bool:
    """Settle and upgrade the database if there is one; return whether there is."""
    target = Path(path) if path is not None else pointer_path()
    if not target.exists():
        from data.replicate import fetch

        fetch(target)  # a new node of a multi-node deployment starts from the shared version
    if not target.exists():
        return False
    with pointing_at(target):
        from data.intake.publish import recover

        recover()
    refresh_aggregates(target)
    return True


def require_database(path: Path | str | None = None) -> None:
    """:func:`prepare_database`, exiting with a message in Chinese when there is no database."""
    if not prepare_database(path):
        raise SystemExit(NO_DATABASE.format(path=path or pointer_path()))


if __name__ == "__main__":
    require_database(sys.argv[1] if len(sys.argv) > 1 else None)
    print("数据库已就绪", flush=True)
