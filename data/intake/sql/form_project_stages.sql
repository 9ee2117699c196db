-- 填报 · 项目里程碑: the lifecycle stages in order (code and Chinese label).
SELECT stage, label, seq
FROM project_stage
ORDER BY seq
