-- 政务服务事项明细: every service item of one region over one window ($start … $end).
-- 办件 flows are summed over the window; item flags are stocks read at the window's
-- last month and counted over the counties that carry the item. Rates are ratios of
-- sums (NULLIF: no denominator gives no value). Optional department filter $dept.
WITH scoped AS (
    SELECT f.*
    FROM service_monthly AS f
    JOIN region_closure AS rc ON rc.descendant_code = f.county_code AND rc.ancestor_code = $region
    WHERE {{scope(f.county_code, f.dept_code)}}
      AND f.month BETWEEN $start AND $end
      AND ($dept IS NULL OR f.dept_code = $dept)
),
per_item AS (
    SELECT item_code, dept_code,
           sum(applications)                              AS applications,
           sum(online_applications)                       AS online_applications,
           sum(completed)                                 AS completed,
           sum(completed_on_time)                         AS completed_on_time,
           sum(good_reviews + bad_reviews)                AS reviews,
           sum(good_reviews)                              AS good_reviews,
           count(*) FILTER (WHERE month = $end)           AS counties,
           sum(is_online_capable) FILTER (WHERE month = $end) AS online_capable_counties,
           sum(is_full_online) FILTER (WHERE month = $end)    AS full_online_counties,
           sum(is_mobile) FILTER (WHERE month = $end)         AS mobile_counties,
           sum(is_one_visit) FILTER (WHERE month = $end)      AS one_visit_counties
    FROM scoped
    GROUP BY item_code, dept_code
)
SELECT p.item_code, i.name AS item_name, p.dept_code, coalesce(d.name, p.dept_code) AS dept_name,
       i.item_type, i.audience,
       p.applications, p.online_applications,
       p.online_applications / NULLIF(p.applications, 0) * 100.0 AS online_handling_rate,
       p.completed, p.completed_on_time,
       p.completed_on_time / NULLIF(p.completed, 0) * 100.0      AS on_time_rate,
       p.reviews, p.good_reviews,
       p.good_reviews / NULLIF(p.reviews, 0) * 100.0             AS satisfaction_rate,
       p.counties, p.online_capable_counties, p.full_online_counties, p.mobile_counties, p.one_visit_counties
FROM per_item AS p
JOIN service_item AS i USING (item_code)
LEFT JOIN department AS d ON d.code = p.dept_code
ORDER BY p.applications DESC, p.item_code
