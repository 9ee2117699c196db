-- 年度预算 of the year $year for the counties under $region that the viewer may see.
SELECT b.*, r.name AS county_name, p.name AS project_name
FROM budget AS b
JOIN region AS r ON r.code = b.county_code
LEFT JOIN project AS p ON p.project_id = b.project_id
WHERE b.year = $year
  AND b.county_code IN (SELECT descendant_code FROM region_closure WHERE ancestor_code = $region)
  AND {{scope(b.county_code, b.dept_code)}}
ORDER BY b.county_code, b.project_id, b.fund_source, b.kind
