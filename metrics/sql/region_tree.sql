-- Every region the viewer's scope covers, parents before children, for the region picker.
SELECT r.code, r.name, r.level, r.parent_code,
       coalesce(r.parent_code, r.code) AS sort_parent
FROM region AS r
WHERE {{scope(r.code)}}
ORDER BY CASE r.level WHEN 'province' THEN 0 WHEN 'city' THEN 1 ELSE 2 END, r.code
