-- Budget execution per project owner unit (项目单位) in $region for the year of $month_end:
-- the year's budget (建设 + 运维) against payments from January to $month_end, in 万元.
-- Scope as in project_alerts.sql; $dept (NULL: every department) cross-filters. The gap to
-- 序时进度 ($time_progress, %) is in 个百分点; worst first, the larger budget first among equals.
WITH in_region AS (
    SELECT descendant_code AS county_code FROM region_closure WHERE ancestor_code = $region
),
budgets AS (
    SELECT b.project_id, sum(b.amount_wan) AS budget_wan
    FROM budget AS b
    WHERE b.year = year($month_end)
      AND b.county_code IN (SELECT county_code FROM in_region)
      AND {{scope(b.county_code, b.dept_code)}}
      AND ($dept IS NULL OR b.dept_code = $dept)
    GROUP BY b.project_id
),
payments AS (
    SELECT p.project_id, sum(p.amount_wan) AS paid_wan
    FROM payment AS p
    WHERE p.month BETWEEN date_trunc('year', $month_end) AND $month_end
      AND p.county_code IN (SELECT county_code FROM in_region)
      AND {{scope(p.county_code, p.dept_code)}}
      AND ($dept IS NULL OR p.dept_code = $dept)
    GROUP BY p.project_id
),
by_project AS (
    SELECT project_id, coalesce(b.budget_wan, 0) AS budget_wan, coalesce(p.paid_wan, 0) AS paid_wan
    FROM budgets AS b
    FULL OUTER JOIN payments AS p USING (project_id)
),
units AS (
    -- a unit's projects sit in the county of its seat: one county per unit
    SELECT pr.owner_unit, any_value(pr.owner_level) AS owner_level, min(pr.county_code) AS county_code,
           count(*) AS projects, sum(bp.budget_wan) AS budget_wan, sum(bp.paid_wan) AS paid_wan
    FROM by_project AS bp
    JOIN project AS pr USING (project_id)
    GROUP BY pr.owner_unit
),
final AS (
    SELECT u.owner_unit, u.owner_level, u.county_code, r.name AS county_name, c.name AS city_name, u.projects,
           CAST(u.budget_wan AS DOUBLE) AS budget_wan, CAST(u.paid_wan AS DOUBLE) AS paid_wan,
           CAST(u.paid_wan AS DOUBLE) / NULLIF(CAST(u.budget_wan AS DOUBLE), 0) * 100 AS execution
    FROM units AS u
    JOIN region AS r ON r.code = u.county_code
    LEFT JOIN region AS c ON c.code = r.parent_code
)
SELECT *, execution - $time_progress AS gap
FROM final
ORDER BY gap NULLS LAST, budget_wan DESC, owner_unit
