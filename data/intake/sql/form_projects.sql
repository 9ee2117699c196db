-- 填报 · 项目里程碑: the projects the viewer may record a milestone for (a new row's choices).
SELECT p.project_id, p.name AS project_name, r.name AS county_name
FROM project AS p
JOIN region AS r ON r.code = p.county_code
WHERE p.county_code IN (
        SELECT descendant_code FROM region_closure WHERE list_contains($scope_regions, ancestor_code))
  AND ($scope_all_depts OR list_contains($scope_depts, p.dept_code))
ORDER BY p.project_id
