-- Whether the viewer's scope covers one service item (an item belongs to a department).
-- No row: no such item.
SELECT i.item_code, ($scope_all_depts OR list_contains($scope_depts, i.dept_code)) AS visible
FROM service_item AS i
WHERE i.item_code = $item
