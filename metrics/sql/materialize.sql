-- An aggregate table of one fact: its additive measures pre-summed to month × county ×
-- the fact's non-detail dimensions. Rendered by metrics/materialize.py from the catalogue.
CREATE OR REPLACE TABLE {{table}} AS
SELECT month, county_code{{dims}},
       count(*) AS fact_rows,
{{measures}}
FROM {{view}}
GROUP BY ALL
ORDER BY month, county_code
