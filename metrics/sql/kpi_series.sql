-- Monthly measures of one fact for a list of regions, one row per region × month.
-- Rendered by metrics/compile.py like kpi_windows.sql (slots: catalogue only; values bound).
WITH scoped AS (
    SELECT rc.ancestor_code AS region_code, f.*
    FROM {{view}} AS f
    JOIN region_closure AS rc ON rc.descendant_code = f.county_code
    WHERE {{scope(f.county_code)}}
      AND list_contains($regions, rc.ancestor_code)
      AND f.month BETWEEN $span_start AND $span_end{{dept_scope}}{{filters}}
)
SELECT region_code, month,
{{measures}}
FROM scoped
GROUP BY region_code, month
ORDER BY region_code, month
