-- The projects of one owner unit ($unit) in $region: the year's budget and payments from
-- January to $month_end, and payments since approval, in 万元; the gap to 序时进度
-- ($time_progress, %) in 个百分点, worst first. Scoped like spending_units.sql.
WITH in_region AS (
    SELECT descendant_code AS county_code FROM region_closure WHERE ancestor_code = $region
),
projects AS (
    SELECT m.project_id, m.name, m.dept_code, m.fund_source, CAST(m.approved_budget AS DOUBLE) AS approved_budget,
           m.approved_on
    FROM v_project_milestones AS m
    WHERE m.owner_unit = $unit
      AND m.county_code IN (SELECT county_code FROM in_region)
      AND {{scope(m.county_code, m.dept_code)}}
      AND ($dept IS NULL OR m.dept_code = $dept)
),
budgets AS (
    SELECT b.project_id, sum(b.amount_wan) AS budget_wan
    FROM budget AS b
    JOIN projects USING (project_id)
    WHERE b.year = year($month_end)
    GROUP BY b.project_id
),
payments AS (
    SELECT p.project_id,
           sum(p.amount_wan) FILTER (WHERE p.month >= date_trunc('year', $month_end)) AS paid_wan,
           sum(p.amount_wan) FILTER (WHERE pr.approved_on IS NULL
                                        OR p.month >= date_trunc('month', pr.approved_on)) AS paid_since_approval
    FROM payment AS p
    JOIN projects AS pr USING (project_id)
    WHERE p.month <= $month_end
    GROUP BY p.project_id
),
final AS (
    SELECT pr.project_id, pr.name, pr.dept_code, pr.fund_source, pr.approved_budget, pr.approved_on,
           CAST(coalesce(b.budget_wan, 0) AS DOUBLE) AS budget_wan,
           CAST(coalesce(p.paid_wan, 0) AS DOUBLE) AS paid_wan,
           CAST(coalesce(p.paid_since_approval, 0) AS DOUBLE) AS paid_since_approval,
           CAST(coalesce(p.paid_wan, 0) AS DOUBLE) / NULLIF(CAST(coalesce(b.budget_wan, 0) AS DOUBLE), 0) * 100
               AS execution
    FROM projects AS pr
    LEFT JOIN budgets AS b USING (project_id)
    LEFT JOIN payments AS p USING (project_id)
)
SELECT *, execution - $time_progress AS gap
FROM final
ORDER BY gap NULLS LAST, budget_wan DESC, project_id
