"""Aggregate tables the engine reads instead of the raw fact views (aggregate awareness).

After every load (the demo build, an import) :func:`materialize` pre-sums each
``aggregate = true`` fact's additive measures to month × county × its non-detail dims.
The engine uses ``agg_<fact>`` only when the query needs no detail dimension, every
measure is additive, and ``meta.aggregates_version`` matches the catalogue in force;
otherwise it reads the raw view (same numbers, slower).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import duckdb

from data import db
from metrics.cache import memo
from metrics.catalogue import CATALOGUE_PATH, Fact, Measure, load_catalogue
from metrics.compile import SQL_DIR, _render, named_sql

AGGREGATE_FORMAT = "1"


def aggregates_version() -> str:
    """Changes whenever the catalogue (or this format) changes."""
    text = CATALOGUE_PATH.read_bytes() + (SQL_DIR / "materialize.sql").read_bytes() + AGGREGATE_FORMAT.encode()
    return hashlib.sha256(text).hexdigest()[:16]


def table_name(fact: Fact) -> str:
    return f"agg_{fact.name}"


def materialize_sql(fact: Fact) -> str:
    """The CREATE TABLE … AS statement of one fact's aggregate."""
    dims = "".join(f", {d}" for d in fact.aggregate_dims)
    lines = [f"       sum({m.expr}) AS {m.name}" for m in fact.measures.values() if m.additive]
    return _render("materialize.sql", table=table_name(fact), dims=dims, measures=",\n".join(lines), view=fact.view)


def distinct_table_name(fact: Fact, measure: Measure) -> str:
    return f"agg_{fact.name}__{measure.name}"


def materialize_distinct_sql(fact: Fact, measure: Measure) -> str:
    """The CREATE TABLE … AS statement keeping one count-distinct measure's values."""
    dims = "".join(f", {d}" for d in fact.aggregate_dims)
    return _render("materialize_distinct.sql", table=distinct_table_name(fact, measure), dims=dims,
                   expr=measure.expr, view=fact.view)


def materialize(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """(Re)build every aggregate table and record the catalogue version they follow."""
    cat = load_catalogue()
    rows = {}
    for fact in cat.facts.values():
        if not fact.aggregate:
            continue
        statements = {table_name(fact): materialize_sql(fact)}
        for m in fact.measures.values():
            if not m.additive:
                statements[distinct_table_name(fact, m)] = materialize_distinct_sql(fact, m)
        for table, sql in statements.items():
            con.execute(sql)
            rows[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    con.execute("INSERT OR REPLACE INTO meta VALUES ('aggregates_version', ?)", [aggregates_version()])
    return rows


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
