-- Every visible project of $region as it stood at $as_of (a month end): its current
-- stage (the latest event on or before $as_of; 终止 wins a tie), its milestones up to
-- $as_of, and the status the Gantt colours it by. $tier (NULL: every tier) cross-filters.
WITH visible AS (
    SELECT p.*
    FROM project AS p
    WHERE {{scope(p.county_code, p.dept_code)}}
      AND p.county_code IN (
            SELECT descendant_code FROM region_closure WHERE ancestor_code = $region)
      AND ($tier IS NULL OR p.tier = $tier)
),
events AS (
    SELECT e.project_id, e.stage, e.event_date, s.seq, s.label
    FROM project_event AS e
    JOIN project_stage AS s USING (stage)
    WHERE e.event_date <= $as_of
      AND e.project_id IN (SELECT project_id FROM visible)
),
milestones AS (
    SELECT project_id,
           arg_max(stage, (event_date, seq))                                   AS stage,
           arg_max(seq, (event_date, seq))                                     AS stage_seq,
           arg_max(label, (event_date, seq))                                   AS stage_label,
           max(event_date) FILTER (WHERE stage = 'applied')                    AS applied_on,
           max(event_date) FILTER (WHERE stage = 'approved')                   AS approved_on,
           max(event_date) FILTER (WHERE stage = 'started')                    AS started_on,
           max(event_date) FILTER (WHERE stage = 'trial')                      AS trial_on,
           max(event_date) FILTER (WHERE stage = 'final_accepted')             AS final_accepted_on,
           max(event_date) FILTER (WHERE stage = 'completed')                  AS completed_on,
           max(event_date) FILTER (WHERE stage = 'terminated')                 AS terminated_on
    FROM events
    GROUP BY project_id
),
states AS (
    SELECT v.project_id, v.name, v.owner_unit, v.owner_level, v.county_code, v.dept_code, v.category, v.tier,
           v.fund_source, CAST(v.approved_budget AS DOUBLE) AS approved_budget, v.planned_start, v.planned_finish,
           m.* EXCLUDE (project_id),
           m.terminated_on IS NOT NULL                                         AS is_terminated,
           (m.terminated_on IS NULL AND m.started_on IS NOT NULL AND m.final_accepted_on IS NULL
            AND v.planned_finish < $as_of)                                     AS is_overdue
    FROM visible AS v
    JOIN milestones AS m USING (project_id)
)
SELECT s.*, r.name AS county_name,
       CASE WHEN is_terminated THEN '已终止'
            WHEN is_overdue THEN '逾期'
            WHEN stage_seq >= 9 THEN '已验收'
            WHEN stage_seq >= 7 THEN '试运行'
            WHEN stage_seq >= 6 THEN '建设中'
            WHEN stage_seq >= 4 THEN '未开工'
            ELSE '前期' END                                                    AS status,
       coalesce(approved_on, applied_on)                                       AS bar_start,
       coalesce(completed_on, final_accepted_on, terminated_on, CAST($as_of AS DATE)) AS bar_end,
       (completed_on IS NULL AND final_accepted_on IS NULL AND terminated_on IS NULL) AS is_ongoing
FROM states AS s
JOIN region AS r ON r.code = s.county_code
ORDER BY s.project_id
