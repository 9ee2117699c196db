-- 项目登记 for an export: every project the viewer may see (a register, not a month).
SELECT p.*, r.name AS county_name, d.name AS dept_name
FROM project AS p
JOIN region AS r ON r.code = p.county_code
LEFT JOIN department AS d ON d.code = p.dept_code
WHERE {{scope(p.county_code, p.dept_code)}}
ORDER BY p.project_id
