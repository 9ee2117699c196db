-- 项目登记 for an export: every project the viewer may see (a register, not a month).
SELECT p.*, r.name AS county_name, d.name AS dept_name
FROM project AS p
JOIN region AS r ON r.code = p.county_code
LEFT JOIN department AS d ON d.code = p.dept_code
WHERE p.county_code IN (
        SELECT descendant_code FROM region_closure WHERE list_contains($scope_regions, ancestor_code))
  AND ($scope_all_depts OR list_contains($scope_depts, p.dept_code))
ORDER BY p.project_id
