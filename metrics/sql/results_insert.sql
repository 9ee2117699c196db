-- New result rows (a registered frame) appended in the order readers filter them by:
-- a month's snapshot is then a few adjacent row groups.
INSERT INTO {{table}}
SELECT month, period, kpi_id, region_code, value, numerator, denominator, prev_value, ly_value,
       mom_change, yoy_change, target, target_source, gap, rag, has_data, fact_rows
FROM {{new}}
ORDER BY month, period, kpi_id, region_code
