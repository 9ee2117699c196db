-- An aggregate table of one fact: its additive measures pre-summed to month × county ×
-- the fact's non-detail dimensions. Rendered by metrics/materialize.py from the catalogue:
-- the whole table (CREATE OR REPLACE), or only the months a publish touched (INSERT after DELETE).
{{into}}
SELECT month, county_code{{dims}},
       count(*) AS fact_rows,
{{measures}}
FROM {{view}}
{{where}}
GROUP BY ALL
ORDER BY month, county_code
