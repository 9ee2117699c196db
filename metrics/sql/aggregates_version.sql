-- The catalogue version the aggregate tables were built for.
SELECT value FROM meta WHERE key = 'aggregates_version'
