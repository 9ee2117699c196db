-- The 督办 key tasks in $region visible to the viewer, with the overdue flag as of $as_of
-- (a month end). Optional filters: $status (NULL = any; '逾期' = the overdue ones) and $lead
-- (NULL = any lead unit).
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
    SELECT v.*,
           string_split(v.lead_units, '、') AS lead_list,
           (v.status <> '已完成' AND v.deadline IS NOT NULL AND v.deadline < $as_of) AS is_overdue
    FROM visible AS v
)
SELECT task_id, title, summary, lead_units, lead_list, deadline_text, deadline, status, progress,
       progress_note, region_code, source, is_overdue,
       CASE WHEN is_overdue THEN date_diff('day', deadline, $as_of) END AS days_overdue
FROM flagged
WHERE ($status IS NULL OR status = $status OR ($status = '逾期' AND is_overdue))
  AND ($lead IS NULL OR list_contains(lead_list, $lead))
ORDER BY task_id
