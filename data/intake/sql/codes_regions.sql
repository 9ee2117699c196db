-- Every region with its level and parent (a province's tree: about a hundred rows).
SELECT code, name, level, parent_code
FROM region
ORDER BY code
