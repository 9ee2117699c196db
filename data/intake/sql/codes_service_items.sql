-- The service items with their department (a monthly row's dept_code must match it).
SELECT item_code AS code, name, dept_code
FROM service_item
ORDER BY item_code
