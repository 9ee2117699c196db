-- One project ($project) with its monthly payments up to $month_end (one row per month ×
-- kind × fund source; one row with NULL month when nothing was paid). Empty when the
-- project is unknown or outside the viewer's scope (counties as in project_alerts.sql).
WITH project_row AS (
    SELECT m.project_id, m.name, m.owner_unit, m.dept_code, m.county_code, m.fund_source AS project_fund_source,
           CAST(m.approved_budget AS DOUBLE) AS approved_budget, m.approved_on
    FROM v_project_milestones AS m
    WHERE m.project_id = $project
      AND {{scope(m.county_code, m.dept_code)}}
),
payments AS (
    SELECT p.project_id, p.month, p.kind, p.fund_source, CAST(p.amount_wan AS DOUBLE) AS amount_wan
    FROM payment AS p
    JOIN project_row USING (project_id)
    WHERE p.month <= $month_end
)
SELECT pr.*, r.name AS county_name, d.name AS dept_name, p.month, p.kind, p.fund_source, p.amount_wan
FROM project_row AS pr
JOIN region AS r ON r.code = pr.county_code
LEFT JOIN department AS d ON d.code = pr.dept_code
LEFT JOIN payments AS p USING (project_id)
ORDER BY p.month NULLS FIRST, p.kind, p.fund_source
