-- The departments the viewer's scope covers, for naming department codes on the spending page.
SELECT d.code, d.name, d.short_name
FROM department AS d
WHERE ($scope_all_depts OR list_contains($scope_depts, d.code))
ORDER BY d.code
