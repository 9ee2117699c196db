-- 支付明细 of $month for the counties under $region that the viewer may see.
SELECT x.*, r.name AS county_name, p.name AS project_name
FROM payment AS x
JOIN region AS r ON r.code = x.county_code
LEFT JOIN project AS p ON p.project_id = x.project_id
WHERE x.month = $month
  AND x.county_code IN (SELECT descendant_code FROM region_closure WHERE ancestor_code = $region)
  AND {{scope(x.county_code, x.dept_code)}}
ORDER BY x.county_code, x.project_id, x.fund_source, x.kind
