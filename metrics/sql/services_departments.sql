-- The departments the viewer's scope covers, with their full and short names.
SELECT code AS dept_code, name AS dept_name, short_name
FROM department
WHERE $scope_all_depts OR list_contains($scope_depts, code)
ORDER BY code
