-- The access-scope predicate, written once (data/scope.py binds its parameters). A .sql file
-- includes it as {{scope(region_column)}} or {{scope(region_column, dept_column)}}; data/db.py's
-- read_sql expands it when the file is read. The line naming {{dept}} is dropped when no
-- department column is given (regions are visible whatever the viewer's departments).
(EXISTS (SELECT 1 FROM region_closure AS scope_rc
         WHERE scope_rc.descendant_code = {{region}} AND list_contains($scope_regions, scope_rc.ancestor_code))
 AND ($scope_all_depts OR list_contains($scope_depts, {{dept}}))
)
