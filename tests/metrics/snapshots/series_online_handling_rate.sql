-- Monthly measures of one fact for a list of regions, one row per region × month.
-- Rendered by metrics/compile.py like kpi_windows.sql (slots: catalogue only; values bound).
WITH visible_counties AS (
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
      AND f.item_code = $f_item_code
)
SELECT region_code, month,
       count(*) AS rows,
       sum(online_applications) AS online_applications,
       sum(applications) AS applications
FROM scoped
GROUP BY region_code, month
ORDER BY region_code, month
