-- 数据资源月度统计 of $month for the counties under $region that the viewer may see.
SELECT x.*, r.name AS county_name, d.name AS dept_name
FROM data_resource_monthly AS x
JOIN region AS r ON r.code = x.county_code
LEFT JOIN department AS d ON d.code = x.dept_code
WHERE x.month = $month
  AND x.county_code IN (SELECT descendant_code FROM region_closure WHERE ancestor_code = $region)
  AND {{scope(x.county_code, x.dept_code)}}
ORDER BY x.county_code, x.dept_code
