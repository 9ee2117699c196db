-- Some KPIs × some regions of one month's results for one period (a page's first view of a
-- month: its cards, its map's regions), as results_snapshot.sql gives them.
SELECT kpi_id, region_code, value, numerator, denominator, prev_value, ly_value, mom_change,
       yoy_change, target, target_source, gap, rag, has_data
FROM kpi_results
WHERE month = $month AND period = $period
  AND list_contains($kpi_ids, kpi_id) AND list_contains($regions, region_code)
