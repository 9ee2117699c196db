-- Monthly series of one fact's KPIs for a list of regions, one row per region × month with
-- fact rows (a month without any has no row: the series shows no value there). Each KPI gets
-- its 当月 value (the month's sums) and its 累计 value (flows summed from January to the
-- month, stocks read at the month), each with the numerator and denominator it is formed
-- from: a ratio is numerator / NULLIF(denominator, 0) × factor as in kpi_windows.sql (a zero
-- denominator gives no value, never 0), a sum is its measure.
-- The series' arithmetic is in floating point: the monthly sums are DOUBLE before they are
-- summed, as the results table holds them (results_series.sql gives the same figures from it).
-- Rows are read from January of $span_start's year (a 累计 value needs the months since
-- January); the months from $span_start to $span_end are returned.
-- Rendered by metrics/compile.py like kpi_windows.sql (slots: catalogue only; values bound).
WITH scoped AS (
    SELECT rc.ancestor_code AS region_code, f.*
    FROM v_service AS f
    JOIN region_closure AS rc ON rc.descendant_code = f.county_code
    WHERE (EXISTS (SELECT 1 FROM region_closure AS scope_rc
         WHERE scope_rc.descendant_code = f.county_code AND list_contains($scope_regions, scope_rc.ancestor_code))
)
      AND list_contains($regions, rc.ancestor_code)
      AND f.month BETWEEN CAST(date_trunc('year', CAST($span_start AS DATE)) AS DATE) AND $span_end
      AND f.item_code = $f_item_code
),
monthly AS (
    SELECT region_code, month,
        count(*) AS fact_rows,
        sum(online_applications) AS online_applications,
        sum(applications) AS applications
    FROM scoped
    GROUP BY region_code, month
),
running AS (
    -- each measure in its 当月 form and its 累计 form
    SELECT region_code, month, fact_rows,
        CAST(online_applications AS DOUBLE) AS online_applications__month,
        sum(CAST(online_applications AS DOUBLE)) OVER ytd AS online_applications__ytd,
        CAST(applications AS DOUBLE) AS applications__month,
        sum(CAST(applications AS DOUBLE)) OVER ytd AS applications__ytd
    FROM monthly
    WINDOW ytd AS (PARTITION BY region_code, year(month) ORDER BY month
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT region_code, month, fact_rows,
       coalesce(online_applications__month, 0) / NULLIF(coalesce(applications__month, 0), 0) * 100.0 AS online_handling_rate__value__month,
       coalesce(online_applications__month, 0) AS online_handling_rate__numerator__month,
       coalesce(applications__month, 0) AS online_handling_rate__denominator__month,
       coalesce(online_applications__ytd, 0) / NULLIF(coalesce(applications__ytd, 0), 0) * 100.0 AS online_handling_rate__value__ytd,
       coalesce(online_applications__ytd, 0) AS online_handling_rate__numerator__ytd,
       coalesce(applications__ytd, 0) AS online_handling_rate__denominator__ytd
FROM running
WHERE month >= $span_start
ORDER BY region_code, month
