-- Whether the viewer's scope covers one 督办 task (tasks carry a region, no department).
-- No row: no such task.
SELECT t.task_id,
       {{scope(t.region_code)}} AS visible
FROM task AS t
WHERE CAST(t.task_id AS VARCHAR) = $task
