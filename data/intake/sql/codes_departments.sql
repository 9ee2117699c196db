-- The department code list.
SELECT code, name
FROM department
ORDER BY code
