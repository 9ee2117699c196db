"""The generic KPI engine: any KPI, any region level, any period, in one code path.

Each public function takes the viewer's ``scope`` and applies it in SQL. Values are
ratios of sums (``NULLIF`` semantics: a zero denominator gives no value, never 0).

Modules: :mod:`.plan` (which query serves which KPIs), :mod:`.evaluate` (value, changes,
RAG from window sums), :mod:`.targets` (targets and gaps), :mod:`.snapshot` (a month's
every KPI × region, and :func:`compute`), :mod:`.series` (monthly series), :mod:`.result`
(ranks, :class:`KpiResult`) and :mod:`.api` (the functions pages call).
"""

from metrics.engine.api import kpi_breakdown, kpi_children, kpi_regions, kpi_results, kpi_value, overview
from metrics.engine.evaluate import evaluated_rows, rag_status
from metrics.engine.plan import FILTER_ARGS
from metrics.engine.plan import periods_of as _periods
from metrics.engine.plan import query_groups as _query_groups
from metrics.engine.result import PP, KpiResult, rank_frame
from metrics.engine.series import kpi_series, kpi_series_many
from metrics.engine.snapshot import Snapshot, _compute_frame, _snapshot, _stored_frame, compute
from metrics.engine.targets import target_table, year_end_target
from metrics.engine.targets import targets as _targets

__all__ = ["FILTER_ARGS", "PP", "KpiResult", "Snapshot", "compute", "evaluated_rows", "kpi_breakdown",
           "kpi_children", "kpi_regions", "kpi_results", "kpi_series", "kpi_series_many", "kpi_value", "overview",
           "rag_status", "rank_frame", "target_table", "year_end_target",
           # internals the results refresh, the warm-up, benchmarks and tests reach
           "_compute_frame", "_periods", "_query_groups", "_snapshot", "_stored_frame", "_targets"]
