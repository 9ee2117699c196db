import pytest

from data import db
from data.scope import Scope
from tests.metrics import fixture_db


@pytest.fixture(scope="session")
def fixture_db_path(tmp_path_factory):
    return fixture_db.build(tmp_path_factory.mktemp("fixture") / "fixture.duckdb")


@pytest.fixture
def fixture_env(fixture_db_path, monkeypatch):
    """Point the data layer at the hand-built fixture database."""
    monkeypatch.setenv("COCKPIT_DB", str(fixture_db_path))
    db.reset_reader()
    yield fixture_db_path
    db.reset_reader()


@pytest.fixture
def province():
    return Scope.province("360000")
