-- 填报 · 项目里程碑: the projects the viewer may record a milestone for (a new row's choices).
SELECT p.project_id, p.name AS project_name, r.name AS county_name
FROM project AS p
JOIN region AS r ON r.code = p.county_code
WHERE {{scope(p.county_code, p.dept_code)}}
ORDER BY p.project_id
