-- Monthly measures of one fact for a list of regions, one row per region × month.
-- Rendered by metrics/compile.py like kpi_windows.sql (slots: catalogue only; values bound).
WITH scoped AS (
    SELECT rc.ancestor_code AS region_code, f.*
    FROM v_service AS f
    JOIN region_closure AS rc ON rc.descendant_code = f.county_code
    WHERE (EXISTS (SELECT 1 FROM region_closure AS scope_rc
         WHERE scope_rc.descendant_code = f.county_code AND list_contains($scope_regions, scope_rc.ancestor_code))
)
      AND list_contains($regions, rc.ancestor_code)
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
