-- 热线月度统计 of $month for the counties under $region that the viewer may see
-- (the hotline has no department, so only the region part of the scope applies).
SELECT h.*, r.name AS county_name
FROM hotline_monthly AS h
JOIN region AS r ON r.code = h.county_code
WHERE h.month = $month
  AND h.county_code IN (SELECT descendant_code FROM region_closure WHERE ancestor_code = $region)
  AND {{scope(h.county_code)}}
ORDER BY h.county_code, list_position(['咨询', '求助', '投诉', '举报', '建议'], h.category)
