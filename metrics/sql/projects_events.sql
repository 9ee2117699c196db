-- Every lifecycle stage in order with the date one visible project reached it on or
-- before $as_of (NULL: not yet). 终止 is listed only when it happened.
WITH visible AS (
    SELECT p.project_id
    FROM project AS p
    WHERE p.project_id = $project_id
      AND {{scope(p.county_code, p.dept_code)}}
),
events AS (
    SELECT e.stage, e.event_date, e.note
    FROM project_event AS e
    JOIN visible USING (project_id)
    WHERE e.event_date <= $as_of
)
SELECT s.stage, s.seq, s.label, e.event_date, e.note
FROM project_stage AS s
LEFT JOIN events AS e USING (stage)
WHERE s.stage <> 'terminated' OR e.event_date IS NOT NULL
ORDER BY s.seq
