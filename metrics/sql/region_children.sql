-- The children of a region that the viewer's scope covers, in code order.
SELECT r.code, r.name, r.level, r.parent_code
FROM region AS r
WHERE r.parent_code = $parent
  AND EXISTS (
      SELECT 1 FROM region_closure AS rc
      WHERE rc.descendant_code = r.code AND list_contains($scope_regions, rc.ancestor_code)
  )
ORDER BY r.code
