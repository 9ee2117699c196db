-- Whether the viewer's scope covers any project of an owner unit (建设单位). No row: no such unit.
WITH unit_projects AS (
    SELECT p.county_code, p.dept_code
    FROM project AS p
    WHERE p.owner_unit = $unit
)
SELECT bool_or(
           EXISTS (
               SELECT 1 FROM region_closure AS rc
               WHERE rc.descendant_code = u.county_code AND list_contains($scope_regions, rc.ancestor_code)
           ) AND ($scope_all_depts OR list_contains($scope_depts, u.dept_code))
       ) AS visible
FROM unit_projects AS u
HAVING count(*) > 0
