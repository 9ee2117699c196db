"""The viewer's access scope, derived on the server, never from callback inputs.

Until login exists every visitor is the demo viewer: the whole province of the database
(or the regions in ``$COCKPIT_VIEWER_SCOPE``, comma-separated, for a narrower demo).
"""

from __future__ import annotations

import os

from data.scope import Scope
from metrics.regions import root_region


def viewer_scope() -> Scope:
    """The scope of the current request's viewer."""
    configured = os.environ.get("COCKPIT_VIEWER_SCOPE", "").strip()
    if configured:
        return Scope(regions=tuple(c.strip() for c in configured.split(",") if c.strip()))
    return Scope.province(root_region())


DEFAULT_VIEWER_NAME = "演示用户"


def viewer_name() -> str:
    """Who the current request's viewer is, as recorded in the import history (the uploader).

    Until login exists: ``$COCKPIT_VIEWER_NAME``, else 「演示用户」."""
    return os.environ.get("COCKPIT_VIEWER_NAME", "").strip() or DEFAULT_VIEWER_NAME
