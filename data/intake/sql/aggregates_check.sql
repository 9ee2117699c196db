-- The refreshed aggregates hold the same totals as the raw rows, for the touched months.
WITH raw AS (
    SELECT month, sum(applications) AS applications, count(*) AS fact_rows
    FROM service_monthly
    WHERE month IN (SELECT month FROM _touched_months)
    GROUP BY month
),
agg AS (
    SELECT month, sum(applications) AS applications, sum(fact_rows) AS fact_rows
    FROM agg_service
    WHERE month IN (SELECT month FROM _touched_months)
    GROUP BY month
)
SELECT '汇总表与明细不一致（办件量）' AS rule, strftime(coalesce(raw.month, agg.month), '%Y-%m') AS detail
FROM raw
FULL JOIN agg USING (month)
WHERE raw.applications IS DISTINCT FROM agg.applications OR raw.fact_rows IS DISTINCT FROM agg.fact_rows
