-- Whether the viewer's scope covers any project of an owner unit (建设单位). No row: no such unit.
WITH unit_projects AS (
    SELECT p.county_code, p.dept_code
    FROM project AS p
    WHERE p.owner_unit = $unit
)
SELECT bool_or({{scope(u.county_code, u.dept_code)}}) AS visible
FROM unit_projects AS u
HAVING count(*) > 0
