-- 项目里程碑 for an export: every event of the projects the viewer may see, the stage
-- written as its label (as in the template).
SELECT e.project_id, p.name AS project_name, s.label AS stage, e.event_date, e.note
FROM project_event AS e
JOIN project AS p ON p.project_id = e.project_id
JOIN project_stage AS s ON s.stage = e.stage
WHERE p.county_code IN (
        SELECT descendant_code FROM region_closure WHERE list_contains($scope_regions, ancestor_code))
  AND ($scope_all_depts OR list_contains($scope_depts, p.dept_code))
ORDER BY e.project_id, s.seq
