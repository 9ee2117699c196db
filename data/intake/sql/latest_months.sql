-- The latest month each monthly table holds, and the calendar's (NULL when empty).
SELECT 'service_monthly' AS sheet, max(month) AS latest FROM service_monthly
UNION ALL SELECT 'hotline_monthly', max(month) FROM hotline_monthly
UNION ALL SELECT 'data_resource_monthly', max(month) FROM data_resource_monthly
UNION ALL SELECT 'payment', max(month) FROM payment
UNION ALL SELECT 'calendar', max(month) FROM calendar
