-- The top region of the database (the province the data covers).
SELECT code FROM region WHERE parent_code IS NULL ORDER BY code LIMIT 1
