-- Measures of one fact for a list of regions over three period windows
-- (cur = the period asked for, prev = 环比, ly = 同比).
-- Rendered by metrics/compile.py: the double-brace slots take only identifiers and expressions
-- from the validated catalogue; every value is a bound parameter.
WITH regions AS (
    SELECT code AS region_code
    FROM region
    WHERE list_contains($regions, code)
),
visible_counties AS (
    SELECT DISTINCT descendant_code AS county_code
    FROM region_closure
    WHERE list_contains($scope_regions, ancestor_code)
),
scoped AS (
    SELECT rc.ancestor_code AS region_code, f.*
    FROM v_service AS f
    JOIN region_closure AS rc ON rc.descendant_code = f.county_code
    JOIN visible_counties AS v ON v.county_code = f.county_code
    WHERE list_contains($regions, rc.ancestor_code)
      AND f.month BETWEEN $span_start AND $span_end
),
monthly AS (
    -- one row per region and month first: the window sums below then read a few rows
    SELECT region_code, month,
        count(*) AS fact_rows,
        sum(online_applications) AS online_applications,
        sum(applications) AS applications
    FROM scoped
    GROUP BY region_code, month
),
aggregated AS (
    SELECT region_code,
        sum(fact_rows) FILTER (WHERE month BETWEEN $cur_start AND $cur_end) AS rows__cur,
        sum(online_applications) FILTER (WHERE month BETWEEN $cur_start AND $cur_end) AS online_applications__cur,
        sum(applications) FILTER (WHERE month BETWEEN $cur_start AND $cur_end) AS applications__cur,
        sum(fact_rows) FILTER (WHERE month BETWEEN $prev_start AND $prev_end) AS rows__prev,
        sum(online_applications) FILTER (WHERE month BETWEEN $prev_start AND $prev_end) AS online_applications__prev,
        sum(applications) FILTER (WHERE month BETWEEN $prev_start AND $prev_end) AS applications__prev,
        sum(fact_rows) FILTER (WHERE month BETWEEN $ly_start AND $ly_end) AS rows__ly,
        sum(online_applications) FILTER (WHERE month BETWEEN $ly_start AND $ly_end) AS online_applications__ly,
        sum(applications) FILTER (WHERE month BETWEEN $ly_start AND $ly_end) AS applications__ly
    FROM monthly
    GROUP BY region_code
)
SELECT r.region_code, a.* EXCLUDE (region_code),
       a.online_applications__cur / NULLIF(a.applications__cur, 0) * 100.0 AS online_handling_rate__cur,
       a.online_applications__prev / NULLIF(a.applications__prev, 0) * 100.0 AS online_handling_rate__prev,
       a.online_applications__ly / NULLIF(a.applications__ly, 0) * 100.0 AS online_handling_rate__ly
FROM regions AS r
LEFT JOIN aggregated AS a USING (region_code)
ORDER BY r.region_code
