"""One briefing export per session for the province and for a county viewer (slow: charts
go through Chromium), shared by the file checks."""

from __future__ import annotations

import pytest

from data import db
from data.scope import Scope

PROVINCE, COUNTY, MONTH = "360000", "360102", "2025-06"


@pytest.fixture(scope="session")
def briefing_env(demo_db_path, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COCKPIT_DB", str(demo_db_path))
        mp.setenv("COCKPIT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        db.reset_reader()
        yield demo_db_path
        db.reset_reader()


@pytest.fixture(scope="session")
def exported(briefing_env, tmp_path_factory):
    """{"province": export result, "county": export result (scope = that county)}."""
    from briefing.export import export

    out = tmp_path_factory.mktemp("briefing")
    return {
        "province": export(PROVINCE, MONTH, "pdf,pptx", out / "province", scope=Scope.province(PROVINCE)),
        "county": export(COUNTY, MONTH, "pdf,pptx", out / "county", scope=Scope(regions=(COUNTY,))),
    }
