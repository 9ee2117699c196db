-- Whether the viewer's scope covers one department. No row: no such department.
SELECT d.code, ($scope_all_depts OR list_contains($scope_depts, d.code)) AS visible
FROM department AS d
WHERE d.code = $dept
