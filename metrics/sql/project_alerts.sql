-- Project-rule alerts as of $as_of (a month end), one row per project × rule.
-- The month thresholds are the file's rule_threshold row, the very numbers v_project_month
-- (the card KPIs) reads; the split-suspect thresholds come from metrics/rules.toml as bound
-- parameters. Each rule's conditions are those of its v_project_month flag.
WITH visible AS (
    SELECT p.*
    FROM v_project_milestones AS p
    WHERE {{scope(p.county_code, p.dept_code)}}
      AND p.county_code IN (
            SELECT descendant_code FROM region_closure WHERE ancestor_code = $region)
      AND p.applied_on <= $as_of
      AND (p.terminated_on IS NULL OR p.terminated_on > $as_of)
),
paid AS (
    -- construction payments only: 批复概算 covers construction, O&M is funded yearly
    SELECT project_id, sum(amount_wan) AS paid_wan
    FROM payment
    WHERE month <= $as_of AND kind = '建设'
    GROUP BY project_id
),
projects AS (
    SELECT v.*, coalesce(paid.paid_wan, 0) AS paid_wan,
           (v.started_on IS NOT NULL AND v.started_on <= $as_of) AS is_started,
           (v.final_accepted_on IS NOT NULL AND v.final_accepted_on <= $as_of) AS is_accepted,
           (v.evaluated_on IS NOT NULL AND v.evaluated_on <= $as_of) AS is_evaluated,
           CAST(v.approved_on + to_months(t.not_started_months) AS DATE) AS start_deadline,
           CAST(v.trial_on + to_months(t.trial_months) AS DATE) AS acceptance_deadline,
           CAST(v.completed_on + to_months(t.self_eval_from_months) AS DATE) AS self_eval_opens,
           CAST(v.completed_on + to_months(t.self_eval_to_months) AS DATE) AS self_eval_deadline,
           t.self_eval_from_months, t.self_eval_to_months
    FROM visible AS v
    LEFT JOIN paid USING (project_id)
    CROSS JOIN rule_threshold AS t
),
not_started AS (
    SELECT project_id, 'not_started_6m' AS rule_id,
           date_diff('day', start_deadline, $as_of) AS days_over,
           approved_budget AS amount_wan,
           '批复于 ' || strftime(approved_on, '%Y-%m-%d') || '，至今未开工' AS detail
    FROM projects
    WHERE start_deadline <= $as_of AND NOT is_started
),
overdue AS (
    SELECT project_id, 'overdue' AS rule_id,
           date_diff('day', planned_finish, $as_of) AS days_over,
           NULL AS amount_wan,
           '计划完工 ' || strftime(planned_finish, '%Y-%m-%d') || '，尚未终验' AS detail
    FROM projects
    WHERE is_started AND NOT is_accepted AND planned_finish < $as_of
),
over_budget AS (
    SELECT project_id, 'over_budget' AS rule_id,
           NULL AS days_over,
           paid_wan - approved_budget AS amount_wan,
           '累计支付 ' || printf('%.2f', paid_wan) || ' 万元，超出批复概算 '
               || printf('%.2f', paid_wan - approved_budget) || ' 万元' AS detail
    FROM projects
    WHERE paid_wan > approved_budget
),
acceptance_pending AS (
    SELECT project_id, 'acceptance_pending' AS rule_id,
           date_diff('day', acceptance_deadline, $as_of) AS days_over,
           NULL AS amount_wan,
           '试运行始于 ' || strftime(trial_on, '%Y-%m-%d') || '，尚未终验' AS detail
    FROM projects
    WHERE acceptance_deadline <= $as_of AND NOT is_accepted
),
-- 第四十条: 竣工验收后 from–to months. After the window: a breach, days counted from its last
-- day; inside it: due soon (severity 提示 in rules.toml), no days over.
self_eval_due AS (
    SELECT project_id, 'self_eval_due' AS rule_id,
           date_diff('day', self_eval_deadline, $as_of) AS days_over,
           NULL AS amount_wan,
           '竣工验收于 ' || strftime(completed_on, '%Y-%m-%d') || '，已超过' || self_eval_to_months
               || '个月仍未开展绩效自评（应于 ' || strftime(self_eval_deadline, '%Y-%m-%d') || ' 前完成）' AS detail
    FROM projects
    WHERE self_eval_deadline < $as_of AND NOT is_evaluated
),
self_eval_upcoming AS (
    SELECT project_id, 'self_eval_upcoming' AS rule_id,
           NULL AS days_over,
           NULL AS amount_wan,
           '竣工验收于 ' || strftime(completed_on, '%Y-%m-%d') || '，已满' || self_eval_from_months
               || '个月，应于 ' || strftime(self_eval_deadline, '%Y-%m-%d') || ' 前完成绩效自评' AS detail
    FROM projects
    WHERE self_eval_opens <= $as_of AND self_eval_deadline >= $as_of AND NOT is_evaluated
),
not_on_cloud AS (
    SELECT project_id, 'not_on_cloud' AS rule_id,
           NULL AS days_over,
           NULL AS amount_wan,
           '非涉密系统未部署在政务云，不安排运维经费' AS detail
    FROM projects
    WHERE trial_on <= $as_of AND NOT classified AND NOT on_gov_cloud
),
split_pairs AS (
    SELECT a.project_id, b.project_id AS partner_id, b.name AS partner_name,
           b.approved_budget AS partner_budget, t.threshold
    FROM projects AS a
    JOIN projects AS b
      ON a.owner_unit = b.owner_unit AND a.apply_year = b.apply_year AND a.project_id <> b.project_id
    CROSS JOIN (SELECT unnest($split_thresholds) AS threshold) AS t
    WHERE a.approved_budget < t.threshold AND a.approved_budget >= t.threshold * (1 - $split_margin)
      AND b.approved_budget < t.threshold AND b.approved_budget >= t.threshold * (1 - $split_margin)
      AND jaro_winkler_similarity(a.name, b.name) >= $split_similarity
),
split_suspect AS (
    SELECT project_id, 'split_suspect' AS rule_id,
           NULL AS days_over,
           NULL AS amount_wan,
           '与「' || string_agg(partner_name, '」「' ORDER BY partner_id) || '」同单位同年度申报、名称相近，概算均略低于 '
               || printf('%g', min(threshold)) || ' 万元审查线' AS detail
    FROM split_pairs
    GROUP BY project_id
),
alerts AS (
    SELECT * FROM not_started
    UNION ALL SELECT * FROM overdue
    UNION ALL SELECT * FROM over_budget
    UNION ALL SELECT * FROM acceptance_pending
    UNION ALL SELECT * FROM self_eval_due
    UNION ALL SELECT * FROM self_eval_upcoming
    UNION ALL SELECT * FROM not_on_cloud
    UNION ALL SELECT * FROM split_suspect
)
SELECT a.rule_id, p.project_id, p.name AS project_name, p.owner_unit, p.owner_level,
       p.county_code, r.name AS county_name, p.dept_code, p.tier, p.approved_budget, p.paid_wan,
       a.days_over, a.amount_wan, a.detail
FROM alerts AS a
JOIN projects AS p USING (project_id)
JOIN region AS r ON r.code = p.county_code
ORDER BY a.rule_id, a.days_over DESC NULLS LAST, p.project_id
