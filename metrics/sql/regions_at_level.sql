-- The visible regions of one level under a root region, in code order.
SELECT r.code, r.name, r.level, r.parent_code
FROM region AS r
JOIN region_closure AS rc ON rc.descendant_code = r.code AND rc.ancestor_code = $root
WHERE r.level = $level
  AND {{scope(r.code)}}
ORDER BY r.code
