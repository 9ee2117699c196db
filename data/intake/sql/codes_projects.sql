-- The registered projects with the county and department that place them in a scope.
SELECT project_id AS code, name, county_code, dept_code
FROM project
ORDER BY project_id
