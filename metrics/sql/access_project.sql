-- Whether the viewer's scope covers one project (named in a URL or a callback): its county is
-- under a visible region and its department is allowed. No row: no such project.
SELECT p.project_id,
       {{scope(p.county_code, p.dept_code)}} AS visible
FROM project AS p
WHERE p.project_id = $project
