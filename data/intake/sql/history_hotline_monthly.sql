-- Monthly totals per county of the plausibility measures of 热线月度统计, for the months
-- in [$start, $end) and the counties in $counties.
SELECT month, county_code, sum(received) AS received
FROM hotline_monthly
WHERE month >= $start AND month < $end
  AND list_contains($counties, county_code)
GROUP BY month, county_code
ORDER BY county_code, month
