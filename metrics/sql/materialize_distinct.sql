-- The distinct values of one count-distinct measure per month × county × the fact's
-- non-detail dimensions, so the measure can be counted without the detail rows.
-- Rendered by metrics/materialize.py from the catalogue.
{{into}}
SELECT DISTINCT month, county_code{{dims}}, ({{expr}}) AS value
FROM {{view}}
WHERE ({{expr}}) IS NOT NULL {{where}}
ORDER BY month, county_code
