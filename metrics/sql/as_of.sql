-- The first and last month the database holds data for.
SELECT min(month) AS first_month, max(month) AS last_month FROM calendar
