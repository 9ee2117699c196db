"""Aggregate tables the engine reads instead of the raw fact views (aggregate awareness).

At every publish :func:`materialize` pre-sums each ``aggregate = true`` fact's additive
measures to month × county × its non-detail dims: every month, or only the months the
publish touched (the rows of other months cannot have changed).
The engine uses ``agg_<fact>`` only when the query needs no detail dimension, every
measure is additive, and ``meta.aggregates_version`` matches the catalogue in force;
otherwise it reads the raw view (same numbers, slower).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import duckdb

from data import db
from metrics import rule_thresholds
from metrics.cache import memo
from metrics.catalogue import CATALOGUE_PATH, Fact, Measure, load_catalogue
from metrics.compile import SQL_DIR, _render, named_sql

AGGREGATE_FORMAT = "1"


def aggregates_version() -> str:
    """Changes whenever the catalogue, the project-rule thresholds (or this format) change."""
    text = CATALOGUE_PATH.read_bytes() + (SQL_DIR / "materialize.sql").read_bytes() + AGGREGATE_FORMAT.encode()
    # agg_project is summed from v_project_month, which reads the rule_threshold row
    text += rule_thresholds.digest().encode()
    return hashlib.sha256(text).hexdigest()[:16]


def table_name(fact: Fact) -> str:
    return f"agg_{fact.name}"


# the months a partial refresh recomputes, in a temporary table the caller fills
MONTHS_TABLE = "_refresh_months"


def _slots(table: str, partial: bool) -> dict[str, str]:
    if partial:
        return {"into": f"INSERT INTO {table} BY NAME",
                "where": f"AND month IN (SELECT month FROM {MONTHS_TABLE})"}
    return {"into": f"CREATE OR REPLACE TABLE {table} AS", "where": ""}


def materialize_sql(fact: Fact, partial: bool = False) -> str:
    """The statement that (re)builds one fact's aggregate, wholly or for the refresh months."""
    dims = "".join(f", {d}" for d in fact.aggregate_dims)
    lines = [f"       sum({m.expr}) AS {m.name}" for m in fact.measures.values() if m.additive]
    slots = _slots(table_name(fact), partial)
    slots["where"] = slots["where"].replace("AND", "WHERE", 1)
    return _render("materialize.sql", dims=dims, measures=",\n".join(lines), view=fact.view, **slots)


def distinct_table_name(fact: Fact, measure: Measure) -> str:
    return f"agg_{fact.name}__{measure.name}"


def materialize_distinct_sql(fact: Fact, measure: Measure, partial: bool = False) -> str:
    """The statement keeping one count-distinct measure's values, wholly or for the refresh months."""
    dims = "".join(f", {d}" for d in fact.aggregate_dims)
    return _render("materialize_distinct.sql", dims=dims, expr=measure.expr, view=fact.view,
                   **_slots(distinct_table_name(fact, measure), partial))


def aggregate_facts() -> list[Fact]:
    return [f for f in load_catalogue().facts.values() if f.aggregate]


def materialize(con: duckdb.DuckDBPyConnection, months: dict[str, list] | None = None) -> dict[str, int]:
    """(Re)build the aggregate tables and record the catalogue version they follow.

    ``months`` maps a fact name to the months to recompute; a fact not named is rebuilt
    whole (``None``: every fact whole). A partial refresh of a table that does not exist
    yet, or follows another catalogue, is a whole rebuild."""
    fresh = _recorded_version(con) == aggregates_version()
    # the thresholds the project views read are written with the aggregates that depend on them
    rule_thresholds.write(con)
    rows = {}
    for fact in aggregate_facts():
        only = months.get(fact.name) if (months is not None and fresh) else None
        if only is not None and not only:
            continue  # nothing of this fact changed
        statements = {table_name(fact): materialize_sql(fact, only is not None)}
        for m in fact.measures.values():
            if not m.additive:
                statements[distinct_table_name(fact, m)] = materialize_distinct_sql(fact, m, only is not None)
        if only is not None:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {MONTHS_TABLE} (month DATE)")
            con.executemany(f"INSERT INTO {MONTHS_TABLE} VALUES (?)", [[m] for m in sorted(set(only))])  # non-empty
        for table, sql in statements.items():
            if only is not None:
                con.execute(f"DELETE FROM {table} WHERE month IN (SELECT month FROM {MONTHS_TABLE})")
            con.execute(sql)
            rows[table] = int(db.scalar(con, f"SELECT count(*) FROM {table}"))
    con.execute("INSERT OR REPLACE INTO meta VALUES ('aggregates_version', ?)", [aggregates_version()])
    return rows


def _recorded_version(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = 'aggregates_version'").fetchone()
    return row[0] if row else None


@memo(maxsize=4)
def aggregates_fresh() -> bool:
    """Whether the database's aggregate tables follow the catalogue in force."""
    df = db.query(named_sql("aggregates_version.sql"))
    return not df.empty and df.iloc[0, 0] == aggregates_version()


def source_for(fact: Fact, measures: list[Measure], filters: dict, fresh: bool) -> tuple[str, list[Measure]]:
    """The relation to read and the measures as expressed over it.

    ``filters`` names every dimension the query touches; a detail dimension needs the raw view.
    """
    if not (fact.aggregate and fresh) or set(filters) & set(fact.detail_dims):
        return fact.view, measures
    if all(m.additive for m in measures):
        return table_name(fact), [replace(m, expr=m.name) for m in measures]
    if len(measures) == 1:  # one count-distinct measure: its own table of distinct values
        return distinct_table_name(fact, measures[0]), [replace(measures[0], expr="value")]
    return fact.view, measures
