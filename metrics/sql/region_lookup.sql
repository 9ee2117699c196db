-- Regions by code, with whether the viewer's scope covers each one.
SELECT r.code, r.name, r.level, r.parent_code,
       {{scope(r.code)}} AS visible
FROM region AS r
WHERE list_contains($codes, r.code)
ORDER BY r.code
