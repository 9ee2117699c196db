-- Whether the viewer's scope covers one 督办 task (tasks carry a region, no department).
-- No row: no such task.
SELECT t.task_id,
       EXISTS (
           SELECT 1 FROM region_closure AS rc
           WHERE rc.descendant_code = t.region_code AND list_contains($scope_regions, rc.ancestor_code)
       ) AS visible
FROM task AS t
WHERE CAST(t.task_id AS VARCHAR) = $task
