-- Measures of one fact for every region over the windows of many result months at once: the
-- results table's refresh (metrics/results.py). The same sums as kpi_windows.sql, whose bound
-- window parameters are here columns of {{windows}}: one row per result month and month its
-- windows read (result_month, month, cur/prev/ly _start/_end; a stocks-only fact reads the
-- window ends only, as kpi_windows.sql does). Rendered from the catalogue like kpi_windows.sql
-- (slots: identifiers and expressions only; values bound).
WITH visible_counties AS (
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
      AND f.month BETWEEN $span_start AND $span_end
),
monthly AS MATERIALIZED (
    -- one row per region and month, computed once for every result month
    SELECT region_code, month,
{{monthly}}
    FROM scoped
    GROUP BY region_code, month
),
aggregated AS (
    SELECT w.result_month, m.region_code,
{{measures}}
    FROM {{windows}} AS w
    JOIN monthly AS m USING (month)
    GROUP BY w.result_month, m.region_code
),
result_months AS (
    SELECT DISTINCT result_month FROM {{windows}}
)
SELECT w.result_month, r.code AS region_code, a.* EXCLUDE (result_month, region_code){{ratios}}
FROM result_months AS w
CROSS JOIN region AS r
LEFT JOIN aggregated AS a ON a.result_month = w.result_month AND a.region_code = r.code
WHERE list_contains($regions, r.code)
ORDER BY w.result_month, r.code
