-- Monthly totals per county of the plausibility measures of 月度统计, for the months in
-- [$start, $end) and the counties in $counties (the baseline a new month is compared with).
SELECT month, county_code,
       sum(applications) AS applications,
       sum(online_applications) AS online_applications,
       sum(completed) AS completed
FROM service_monthly
WHERE month >= $start AND month < $end
  AND list_contains($counties, county_code)
GROUP BY month, county_code
ORDER BY county_code, month
