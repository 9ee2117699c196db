-- Region ancestry pairs (each region is its own ancestor at depth 0).
SELECT ancestor_code, descendant_code
FROM region_closure
