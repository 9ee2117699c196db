-- Tasks per lead unit (a task with several lead units counts for each) in $region, visible to
-- the viewer, split into 已完成 / 未完成未逾期 / 逾期 as of $as_of (a month end).
-- Optional filter: $status (NULL = any; '逾期' = the overdue ones).
-- Tasks carry no dept_code, so only the region part of the scope applies.
WITH visible AS (
    SELECT t.*
    FROM task AS t
    WHERE {{scope(t.region_code)}}
      AND t.region_code IN (
            SELECT descendant_code FROM region_closure WHERE ancestor_code = $region)
),
flagged AS (
    -- overdue: not done and the deadline passed before the as-of day; 长期 (no deadline) never is
    SELECT v.task_id, v.lead_units, v.status,
           (v.status <> '已完成' AND v.deadline IS NOT NULL AND v.deadline < $as_of) AS is_overdue
    FROM visible AS v
),
per_unit AS (
    SELECT trim(unnest(string_split(f.lead_units, '、'))) AS lead_unit, f.task_id, f.status, f.is_overdue
    FROM flagged AS f
    WHERE $status IS NULL OR f.status = $status OR ($status = '逾期' AND f.is_overdue)
)
SELECT lead_unit,
       count(*) AS tasks,
       count(*) FILTER (WHERE status = '已完成') AS done,
       count(*) FILTER (WHERE is_overdue) AS overdue,
       count(*) FILTER (WHERE status <> '已完成' AND NOT is_overdue) AS open
FROM per_unit
WHERE lead_unit <> ''
GROUP BY lead_unit
ORDER BY tasks DESC, overdue DESC, lead_unit
