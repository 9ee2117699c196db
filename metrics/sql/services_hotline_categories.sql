-- 12345 tickets received per month and category for one region ($start … $end).
-- The hotline has no department: a viewer restricted to departments sees no rows.
WITH visible_counties AS (
    SELECT DISTINCT descendant_code AS county_code
    FROM region_closure
    WHERE list_contains($scope_regions, ancestor_code)
),
scoped AS (
    SELECT h.month, h.category, h.received
    FROM v_hotline AS h
    JOIN region_closure AS rc ON rc.descendant_code = h.county_code AND rc.ancestor_code = $region
    JOIN visible_counties AS v ON v.county_code = h.county_code
    WHERE h.month BETWEEN $start AND $end
      AND $scope_all_depts
)
SELECT month, category, sum(received) AS received
FROM scoped
GROUP BY month, category
ORDER BY month, category
