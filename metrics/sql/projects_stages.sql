-- The lifecycle stages of 赣府厅发〔2023〕12号 in order (终止 last).
SELECT stage, seq, label
FROM project_stage
ORDER BY seq
