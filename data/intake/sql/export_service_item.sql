-- 事项清单 for an export: every item of the departments the viewer may see.
SELECT i.*, d.name AS dept_name
FROM service_item AS i
LEFT JOIN department AS d ON d.code = i.dept_code
WHERE $scope_all_depts OR list_contains($scope_depts, i.dept_code)
ORDER BY i.item_code
