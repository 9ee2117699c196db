-- Measures of one fact for one region, split by one of the fact's dimensions, over the
-- cur/prev/ly windows. Rendered by metrics/compile.py (slots: catalogue only; values bound).
WITH scoped AS (
    SELECT f.*
    FROM {{view}} AS f
    JOIN region_closure AS rc ON rc.descendant_code = f.county_code AND rc.ancestor_code = $region
    WHERE {{scope(f.county_code)}}
      AND f.month BETWEEN $span_start AND $span_end{{dept_scope}}{{filters}}
),
monthly AS (
    SELECT {{dim}} AS member, month,
{{monthly}}
    FROM scoped
    GROUP BY {{dim}}, month
),
aggregated AS (
    SELECT member,
{{measures}}
    FROM monthly
    GROUP BY member
)
SELECT a.*{{ratios}}
FROM aggregated AS a
ORDER BY member
