-- What replacing {{table}}'s rows by {{incoming}} changes, per period and county:
-- rows added (key only in the file), removed (key only in the database, within the
-- partitions the file replaces) and changed (same key, any stored column differs).
-- Rendered by data/intake/publish.py from the intake spec (identifiers only; no values).
WITH old AS (
    SELECT {{cols}} FROM {{table}} AS t
    WHERE EXISTS (SELECT 1 FROM {{incoming}} AS i WHERE {{scope_match}})
),
new AS (
    SELECT {{cols}} FROM {{incoming}}
),
joined AS (
    SELECT {{period}} AS period, {{region}} AS county_code,
           o.{{key1}} IS NULL AS is_added,
           n.{{key1}} IS NULL AS is_removed,
           ({{differs}}) AS is_changed
    FROM old AS o
    FULL JOIN new AS n ON {{key_match}}
)
SELECT period, county_code,
       count(*) FILTER (WHERE is_added)                                AS added,
       count(*) FILTER (WHERE NOT is_added AND NOT is_removed AND is_changed) AS changed,
       count(*) FILTER (WHERE is_removed)                              AS removed
FROM joined
GROUP BY ALL
HAVING added + changed + removed > 0
ORDER BY period NULLS FIRST, county_code NULLS FIRST
