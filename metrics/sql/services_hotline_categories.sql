-- 12345 tickets received per month and category for one region ($start … $end).
-- The hotline has no department: a viewer restricted to departments sees no rows.
WITH scoped AS (
    SELECT h.month, h.category, h.received
    FROM v_hotline AS h
    JOIN region_closure AS rc ON rc.descendant_code = h.county_code AND rc.ancestor_code = $region
    WHERE {{scope(h.county_code)}}
      AND h.month BETWEEN $start AND $end
      AND $scope_all_depts
)
SELECT month, category, sum(received) AS received
FROM scoped
GROUP BY month, category
ORDER BY month, category
