-- 项目里程碑 for an export: every event of the projects the viewer may see, the stage
-- written as its label (as in the template).
SELECT e.project_id, p.name AS project_name, s.label AS stage, e.event_date, e.note
FROM project_event AS e
JOIN project AS p ON p.project_id = e.project_id
JOIN project_stage AS s ON s.stage = e.stage
WHERE {{scope(p.county_code, p.dept_code)}}
ORDER BY e.project_id, s.seq
