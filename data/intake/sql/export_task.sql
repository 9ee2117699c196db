-- 督办任务进展 for an export: the tasks of regions the viewer may see, with their title.
SELECT t.task_id, t.title, t.status, t.progress, t.progress_note, t.evidence_url
FROM task AS t
WHERE {{scope(t.region_code)}}
ORDER BY t.task_id
