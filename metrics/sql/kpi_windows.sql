-- Measures of one fact for a list of regions over the three period windows of one or many
-- result months (cur = the period asked for, prev = 环比, ly = 同比): a page's query binds one
-- result month, the results table's refresh (metrics/results.py) every month at once.
-- The windows are bound lists read in parallel, one element per result month; each result
-- month joins the months its windows read (a stocks-only fact: the window ends only).
-- Rendered by metrics/compile.py: the double-brace slots take only identifiers and expressions
-- from the validated catalogue; every value is a bound parameter.
WITH windows AS (
    SELECT *, least(cur_start, prev_start, ly_start) AS read_start, greatest(cur_end, prev_end, ly_end) AS read_end
    FROM (
        SELECT unnest(CAST($result_months AS DATE[])) AS result_month,
               unnest(CAST($cur_starts AS DATE[])) AS cur_start, unnest(CAST($cur_ends AS DATE[])) AS cur_end,
               unnest(CAST($prev_starts AS DATE[])) AS prev_start, unnest(CAST($prev_ends AS DATE[])) AS prev_end,
               unnest(CAST($ly_starts AS DATE[])) AS ly_start, unnest(CAST($ly_ends AS DATE[])) AS ly_end
    )
),
visible_counties AS (
    SELECT DISTINCT descendant_code AS county_code
    FROM region_closure
    WHERE list_contains($scope_regions, ancestor_code)
),
scoped AS (
    SELECT rc.ancestor_code AS region_code, f.*
    FROM {{view}} AS f
    JOIN region_closure AS rc ON rc.descendant_code = f.county_code
    JOIN visible_counties AS v ON v.county_code = f.county_code
    WHERE list_contains($regions, rc.ancestor_code)
      AND f.month BETWEEN $span_start AND $span_end{{dept_scope}}{{filters}}
),
monthly AS MATERIALIZED (
    -- one row per region and month first, computed once for every result month: the window
    -- sums below then read a few rows
    SELECT region_code, month,
{{monthly}}
    FROM scoped
    GROUP BY region_code, month
),
aggregated AS (
    SELECT w.result_month, m.region_code,
{{measures}}
    FROM windows AS w
    JOIN monthly AS m ON {{reads}}
    GROUP BY w.result_month, m.region_code
)
SELECT w.result_month, r.code AS region_code, a.* EXCLUDE (result_month, region_code){{ratios}}
FROM windows AS w
CROSS JOIN region AS r
LEFT JOIN aggregated AS a ON a.result_month = w.result_month AND a.region_code = r.code
WHERE list_contains($regions, r.code)
ORDER BY w.result_month, r.code
