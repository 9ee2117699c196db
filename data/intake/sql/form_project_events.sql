-- 填报 · 项目里程碑: the milestones already recorded for the projects the viewer may see
-- (the region and department parts of the scope both apply), in project and stage order.
WITH visible AS (
    SELECT p.project_id, p.name, p.county_code
    FROM project AS p
    WHERE {{scope(p.county_code, p.dept_code)}}
)
SELECT e.project_id, v.name AS project_name, r.name AS county_name, e.stage, s.label AS stage_label,
       strftime(e.event_date, '%Y-%m-%d') AS event_date, coalesce(e.note, '') AS note
FROM project_event AS e
JOIN visible AS v USING (project_id)
JOIN project_stage AS s USING (stage)
JOIN region AS r ON r.code = v.county_code
ORDER BY e.project_id, s.seq
