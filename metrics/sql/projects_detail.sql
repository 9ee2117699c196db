-- One visible project with what it was paid up to $as_of (建设 and 运维 apart) and the
-- 运维 budgets allotted up to the year of $as_of. No row: unknown or out of scope.
WITH visible AS (
    SELECT p.*
    FROM project AS p
    WHERE p.project_id = $project_id
      AND {{scope(p.county_code, p.dept_code)}}
),
paid AS (
    SELECT sum(amount_wan) FILTER (WHERE kind = '建设') AS paid_build_wan,
           sum(amount_wan) FILTER (WHERE kind = '运维') AS paid_om_wan
    FROM payment
    WHERE project_id = $project_id AND month <= $as_of
),
om_budget AS (
    SELECT sum(amount_wan) AS om_budget_wan
    FROM budget
    WHERE project_id = $project_id AND kind = '运维' AND year <= year(CAST($as_of AS DATE))
)
SELECT v.project_id, v.name, v.owner_unit, v.owner_level, v.county_code, r.name AS county_name,
       v.dept_code, d.name AS dept_name, v.category, v.tier, v.fund_source, v.apply_year,
       CAST(v.approved_budget AS DOUBLE) AS approved_budget, v.planned_start, v.planned_finish,
       v.on_gov_cloud, v.classified, v.data_sharing_confirmed, v.crypto_assessed, v.mlps_level,
       v.performance_score,
       CAST(coalesce(paid.paid_build_wan, 0) AS DOUBLE) AS paid_build_wan,
       CAST(coalesce(paid.paid_om_wan, 0) AS DOUBLE) AS paid_om_wan,
       CAST(coalesce(om_budget.om_budget_wan, 0) AS DOUBLE) AS om_budget_wan
FROM visible AS v
JOIN region AS r ON r.code = v.county_code
LEFT JOIN department AS d ON d.code = v.dept_code
CROSS JOIN paid
CROSS JOIN om_budget
