-- How fresh each fact family is: its latest month and when that data was published
-- (written by the publisher, data/intake; one row per family).
SELECT family, as_of_month, updated_at
FROM fact_freshness
ORDER BY family
