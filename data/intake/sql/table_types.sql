-- The declared column types of a table (typed frames match them).
SELECT column_name, data_type, is_nullable
FROM information_schema.columns
WHERE table_name = $table AND table_schema = 'main'
ORDER BY ordinal_position
