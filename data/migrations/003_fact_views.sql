-- 003: the fact views the metric engine reads. Each has month, county_code and,
-- where it applies, dept_code, so one compiler can filter, scope and aggregate them all.

CREATE VIEW v_service AS
SELECT f.*, i.audience, i.item_type, i.on_application,
       i.statutory_days, i.promised_days, i.one_thing, i.cross_province
FROM service_monthly AS f
JOIN service_item AS i USING (item_code);

CREATE VIEW v_hotline AS
SELECT * FROM hotline_monthly;

CREATE VIEW v_data_resource AS
SELECT * FROM data_resource_monthly;

-- payments are a flow per month; the annual budget is a stock repeated on every
-- month of its year (the budget in force that month).
CREATE VIEW v_spending AS
SELECT month, county_code, dept_code, project_id, fund_source, kind,
       amount_wan AS paid_wan, CAST(0 AS DECIMAL(14, 2)) AS budget_wan
FROM payment
UNION ALL
SELECT c.month, b.county_code, b.dept_code, b.project_id, b.fund_source, b.kind,
       CAST(0 AS DECIMAL(14, 2)) AS paid_wan, b.amount_wan AS budget_wan
FROM budget AS b
JOIN calendar AS c ON year(c.month) = b.year;

-- every project with the date it reached each lifecycle stage (NULL: not yet).
CREATE VIEW v_project_milestones AS
WITH milestones AS (
    SELECT project_id,
           max(event_date) FILTER (WHERE stage = 'applied')                    AS applied_on,
           max(event_date) FILTER (WHERE stage = 'approved')                   AS approved_on,
           max(event_date) FILTER (WHERE stage = 'procured')                   AS procured_on,
           max(event_date) FILTER (WHERE stage = 'started')                    AS started_on,
           max(event_date) FILTER (WHERE stage = 'trial')                      AS trial_on,
           max(event_date) FILTER (WHERE stage = 'final_accepted') AS final_accepted_on,
           max(event_date) FILTER (WHERE stage = 'completed')                  AS completed_on,
           max(event_date) FILTER (WHERE stage = 'evaluated')                  AS evaluated_on,
           max(event_date) FILTER (WHERE stage = 'terminated')                 AS terminated_on
    FROM project_event
    GROUP BY project_id
)
SELECT p.*, m.* EXCLUDE (project_id)
FROM project AS p
JOIN milestones AS m USING (project_id);

-- each project's state at the end of every calendar month, from its events.
-- paid_to_date counts construction payments only: 批复概算 covers construction, and
-- O&M is funded year by year after completion (超概算 is a construction matter).
CREATE VIEW v_project_month AS
WITH monthly_paid AS (
    SELECT project_id, month, sum(amount_wan) AS paid_wan
    FROM payment
    WHERE kind = '建设'
    GROUP BY project_id, month
),
project_months AS (
    SELECT c.month, last_day(c.month) AS month_end, p.*,
           sum(coalesce(mp.paid_wan, 0)) OVER (
               PARTITION BY p.project_id ORDER BY c.month
           ) AS paid_to_date
    FROM calendar AS c
    CROSS JOIN v_project_milestones AS p
    LEFT JOIN monthly_paid AS mp ON mp.project_id = p.project_id AND mp.month = c.month
),
states AS (
    SELECT *,
           (terminated_on IS NULL OR terminated_on > month_end)                AS alive,
           coalesce(started_on <= month_end, false)                            AS is_started,
           coalesce(final_accepted_on <= month_end, false)                     AS is_accepted,
           coalesce(completed_on <= month_end, false)                          AS is_completed,
           coalesce(evaluated_on <= month_end, false)                          AS is_evaluated,
           coalesce(trial_on <= month_end, false)                              AS is_running,
           coalesce(approved_on + INTERVAL 6 MONTH <= month_end, false)        AS approved_6m_ago,
           coalesce(trial_on + INTERVAL 6 MONTH <= month_end, false)           AS trial_6m_ago,
           coalesce(completed_on + INTERVAL 6 MONTH <= month_end, false)       AS completed_6m_ago,
           coalesce(planned_finish < month_end, false)                         AS past_planned_finish,
           coalesce(final_accepted_on BETWEEN month AND month_end, false)      AS accepted_in_month
    FROM project_months
    WHERE applied_on <= month_end
)
SELECT month, county_code, dept_code, project_id, owner_unit, tier, category, fund_source,
       approved_budget, paid_to_date,
       CAST(alive AS TINYINT)                                                  AS in_portfolio,
       CAST(alive AND approved_6m_ago AND NOT is_started AS TINYINT)           AS is_not_started_6m,
       CAST(alive AND is_started AND NOT is_accepted AND past_planned_finish
            AS TINYINT)                                                        AS is_overdue,
       CAST(paid_to_date > approved_budget AS TINYINT)                         AS is_over_budget,
       CAST(alive AND trial_6m_ago AND NOT is_accepted AS TINYINT)             AS is_acceptance_pending,
       CAST(completed_6m_ago AND NOT is_evaluated AS TINYINT)                  AS is_self_eval_due,
       CAST(alive AND is_running AND NOT classified AS TINYINT)                AS is_cloud_eligible,
       CAST(alive AND is_running AND NOT classified AND on_gov_cloud AS TINYINT) AS is_on_cloud,
       CAST(is_accepted AS TINYINT)                                            AS is_accepted,
       CAST(is_accepted AND data_sharing_confirmed AS TINYINT)                 AS is_sharing_confirmed,
       CAST(accepted_in_month AS TINYINT)                                      AS finished_in_month,
       CAST(accepted_in_month AND final_accepted_on <= coalesce(planned_finish, final_accepted_on)
            AS TINYINT)                                                        AS finished_on_time_in_month,
       CAST(is_evaluated AS TINYINT)                                           AS is_evaluated,
       CASE WHEN is_evaluated THEN performance_score END                       AS evaluated_score,
       CASE WHEN alive AND approved_6m_ago AND NOT is_started
            THEN approved_budget ELSE 0 END                                    AS recoverable_wan,
       CASE WHEN is_completed THEN greatest(approved_budget - paid_to_date, 0)
            ELSE 0 END                                                         AS surplus_wan
FROM states;
