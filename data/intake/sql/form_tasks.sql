-- 填报 · 督办任务进展: the tasks the viewer may report on, with their current progress.
-- Tasks carry no dept_code, so only the region part of the scope applies.
WITH visible AS (
    SELECT t.*
    FROM task AS t
    WHERE {{scope(t.region_code)}}
)
SELECT task_id, title, lead_units, deadline_text, status, progress,
       coalesce(progress_note, '') AS progress_note, coalesce(evidence_url, '') AS evidence_url
FROM visible
ORDER BY task_id
