-- The project lifecycle stages (uploads may name a stage by its label).
SELECT stage AS code, label AS name, seq
FROM project_stage
ORDER BY seq
