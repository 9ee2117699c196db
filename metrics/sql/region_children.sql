-- The children of a region that the viewer's scope covers, in code order.
SELECT r.code, r.name, r.level, r.parent_code
FROM region AS r
WHERE r.parent_code = $parent
  AND {{scope(r.code)}}
ORDER BY r.code
