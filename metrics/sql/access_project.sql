-- Whether the viewer's scope covers one project (named in a URL or a callback): its county is
-- under a visible region and its department is allowed. No row: no such project.
SELECT p.project_id,
       EXISTS (
           SELECT 1 FROM region_closure AS rc
           WHERE rc.descendant_code = p.county_code AND list_contains($scope_regions, rc.ancestor_code)
       ) AND ($scope_all_depts OR list_contains($scope_depts, p.dept_code)) AS visible
FROM project AS p
WHERE p.project_id = $project
