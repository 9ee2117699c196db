-- The 督办 tasks with their region and current progress (an update that omits an
-- optional column keeps its current value).
SELECT task_id AS code, title AS name, region_code, status, progress, progress_note, evidence_url
FROM task
ORDER BY task_id
