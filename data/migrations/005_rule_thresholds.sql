-- 005: the project-rule thresholds live in the analytical file, one row written from
-- metrics/rules.toml (metrics/rule_thresholds.py) whenever the aggregate tables are built.
-- v_project_month (the card KPIs and agg_project) and project_alerts.sql (the alert list)
-- both read this row of the file they query, so a card and its alert list cannot disagree.
-- v_project_month is redefined to read it instead of a hard-coded INTERVAL 6 MONTH, and:
--   * 绩效自评 (赣府厅发〔2023〕12号 第四十条「在项目通过竣工验收并投入运行后6至12个月内，项目
--     单位应当开展项目建设管理绩效自评」): a breach only once the 12 months have passed (inside
--     the 6–12 month window the alert list shows the project as 即将到期, severity 提示);
--   * 数据共享达标率 is counted over the projects that reached 竣工验收 (第三十条「开展竣工验收前，
--     项目的数据共享情况需经数据资源管理部门确认……确认不通过的，不组织竣工验收」), not 终验;
--   * 超概算 and 绩效自评 count live (not terminated) projects only, as the alert list does.

CREATE TABLE rule_threshold (
    one                   BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),  -- at most one row
    not_started_months    INTEGER NOT NULL CHECK (not_started_months > 0),
    trial_months          INTEGER NOT NULL CHECK (trial_months > 0),
    self_eval_from_months INTEGER NOT NULL CHECK (self_eval_from_months >= 0),
    self_eval_to_months   INTEGER NOT NULL,
    CHECK (self_eval_from_months <= self_eval_to_months)
);

CREATE OR REPLACE VIEW v_project_month AS
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
    SELECT pm.*,
           (terminated_on IS NULL OR terminated_on > month_end)                AS alive,
           coalesce(started_on <= month_end, false)                            AS is_started,
           coalesce(final_accepted_on <= month_end, false)                     AS is_accepted,
           coalesce(completed_on <= month_end, false)                          AS is_completed,
           coalesce(evaluated_on <= month_end, false)                          AS is_evaluated,
           coalesce(trial_on <= month_end, false)                              AS is_running,
           coalesce(approved_on + to_months(t.not_started_months) <= month_end, false) AS approval_lapsed,
           coalesce(trial_on + to_months(t.trial_months) <= month_end, false)  AS trial_served,
           -- the window's last day still counts as inside it
           coalesce(completed_on + to_months(t.self_eval_to_months) < month_end, false) AS self_eval_lapsed,
           coalesce(planned_finish < month_end, false)                         AS past_planned_finish,
           coalesce(final_accepted_on BETWEEN month AND month_end, false)      AS accepted_in_month
    FROM project_months AS pm
    CROSS JOIN rule_threshold AS t
    WHERE applied_on <= month_end
)
SELECT month, county_code, dept_code, project_id, owner_unit, tier, category, fund_source,
       approved_budget, paid_to_date,
       CAST(alive AS TINYINT)                                                  AS in_portfolio,
       CAST(alive AND approval_lapsed AND NOT is_started AS TINYINT)           AS is_not_started_6m,
       CAST(alive AND is_started AND NOT is_accepted AND past_planned_finish
            AS TINYINT)                                                        AS is_overdue,
       CAST(alive AND paid_to_date > approved_budget AS TINYINT)               AS is_over_budget,
       CAST(alive AND trial_served AND NOT is_accepted AS TINYINT)             AS is_acceptance_pending,
       CAST(alive AND self_eval_lapsed AND NOT is_evaluated AS TINYINT)        AS is_self_eval_due,
       CAST(alive AND is_running AND NOT classified AS TINYINT)                AS is_cloud_eligible,
       CAST(alive AND is_running AND NOT classified AND on_gov_cloud AS TINYINT) AS is_on_cloud,
       CAST(is_accepted AS TINYINT)                                            AS is_accepted,
       CAST(is_completed AS TINYINT)                                           AS is_completed,
       CAST(is_completed AND data_sharing_confirmed AS TINYINT)                AS is_sharing_confirmed,
       CAST(accepted_in_month AS TINYINT)                                      AS finished_in_month,
       CAST(accepted_in_month AND final_accepted_on <= coalesce(planned_finish, final_accepted_on)
            AS TINYINT)                                                        AS finished_on_time_in_month,
       CAST(is_evaluated AS TINYINT)                                           AS is_evaluated,
       CASE WHEN is_evaluated THEN performance_score END                       AS evaluated_score,
       CASE WHEN alive AND approval_lapsed AND NOT is_started
            THEN approved_budget ELSE 0 END                                    AS recoverable_wan,
       CASE WHEN is_completed THEN greatest(approved_budget - paid_to_date, 0)
            ELSE 0 END                                                         AS surplus_wan
FROM states;
