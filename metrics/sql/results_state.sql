-- Whether the file holds a results table, and the code and data versions it was computed for.
SELECT EXISTS (SELECT 1 FROM duckdb_tables() WHERE table_name = 'kpi_results' AND schema_name = 'main') AS present,
       (SELECT value FROM meta WHERE key = 'results_version')      AS version,
       (SELECT value FROM meta WHERE key = 'results_data_version') AS data_version,
       (SELECT value FROM meta WHERE key = 'data_version')         AS current
