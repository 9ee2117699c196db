-- The target of each KPI for every region in a year: the region's own row, else the
-- nearest ancestor's (closure depth), else none (the catalogue default applies).
WITH candidates AS (
    SELECT t.kpi_id, r.code AS region_code, t.target, t.source, rc.depth
    FROM region AS r
    JOIN region_closure AS rc ON rc.descendant_code = r.code
    JOIN kpi_target AS t ON t.region_code = rc.ancestor_code
    WHERE t.year = $year
)
SELECT kpi_id, region_code, target, source
FROM candidates
QUALIFY row_number() OVER (PARTITION BY kpi_id, region_code ORDER BY depth) = 1
