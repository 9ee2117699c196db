-- 月度统计 of $month for the counties under $region that the viewer may see.
SELECT s.*, r.name AS county_name, i.name AS item_name
FROM service_monthly AS s
JOIN region AS r ON r.code = s.county_code
LEFT JOIN service_item AS i ON i.item_code = s.item_code
WHERE s.month = $month
  AND s.county_code IN (SELECT descendant_code FROM region_closure WHERE ancestor_code = $region)
  AND {{scope(s.county_code, s.dept_code)}}
ORDER BY s.county_code, s.item_code
