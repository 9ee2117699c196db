-- Every 当月 result of one region, month by month: the monthly sums a series is built from.
SELECT kpi_id, month, value, numerator, denominator, fact_rows
FROM kpi_results
WHERE region_code = $region AND period = 'month'
ORDER BY kpi_id, month
