-- Regions by code, with whether the viewer's scope covers each one.
SELECT r.code, r.name, r.level, r.parent_code,
       EXISTS (
           SELECT 1 FROM region_closure AS rc
           WHERE rc.descendant_code = r.code AND list_contains($scope_regions, rc.ancestor_code)
       ) AS visible
FROM region AS r
WHERE list_contains($codes, r.code)
ORDER BY r.code
