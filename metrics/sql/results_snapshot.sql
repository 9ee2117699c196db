-- One month's results for one period: every KPI × every region (the province's snapshot).
SELECT kpi_id, region_code, value, numerator, denominator, prev_value, ly_value, mom_change,
       yoy_change, target, target_source, gap, rag, has_data
FROM kpi_results
WHERE month = $month AND period = $period
