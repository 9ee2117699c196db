-- One service item's declaration (name, department, type, audience, time limits),
-- if the viewer's department scope covers it.
SELECT i.item_code, i.name AS item_name, i.dept_code, coalesce(d.name, i.dept_code) AS dept_name,
       i.item_type, i.audience, i.on_application, i.statutory_days, i.promised_days
FROM service_item AS i
LEFT JOIN department AS d ON d.code = i.dept_code
WHERE i.item_code = $item
  AND ($scope_all_depts OR list_contains($scope_depts, i.dept_code))
