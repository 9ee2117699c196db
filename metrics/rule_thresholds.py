"""The project-rule thresholds as one row of the analytical file (``rule_threshold``).

``rules.toml`` is where the thresholds are configured. The card KPIs (``v_project_month`` and
the ``agg_project`` table built from it) and the alert list (``project_alerts.sql``) both read
them from the ``rule_threshold`` row of the file they query, never from the TOML, so a card and
its alert list count the same projects in every version, a rolled-back one included.

:func:`write` puts the configured values into a file; :mod:`metrics.materialize` calls it each
time it builds the aggregate tables and folds :func:`digest` into their version, so a changed
threshold makes the next start publish a rebuilt version (``data.intake.publish.upgrade``).
"""

from __future__ import annotations

import hashlib
import json

import duckdb

from metrics.compile import named_sql
from metrics.rules import load_rules

# the thresholds measured in months after a lifecycle date; the split-suspect ones (budgets,
# name similarity) feed the alert list only and stay bound parameters of its query
MONTH_THRESHOLDS = ("not_started_months", "trial_months", "self_eval_from_months", "self_eval_to_months")


def configured() -> dict[str, int]:
    """The month thresholds of ``rules.toml``."""
    t = load_rules().thresholds
    return {k: int(t[k]) for k in MONTH_THRESHOLDS}


def digest() -> str:
    """Changes whenever a configured month threshold changes."""
    return hashlib.sha256(json.dumps(configured(), sort_keys=True).encode()).hexdigest()[:16]


def write(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the file's threshold row with the configured values."""
    con.execute(named_sql("rule_threshold_write.sql"), configured())
