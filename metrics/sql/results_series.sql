-- Monthly series of KPIs for one region rebuilt from the 当月 rows of the results table
-- (metrics/results.py): the figures kpi_series.sql computes from the facts. A 当月 row holds
-- one month's sums (a ratio's numerator and denominator, a sum's value) and the fact rows
-- behind them.
-- The KPIs are bound lists read in parallel, one element per KPI: whether it is a ratio, its
-- factor, and for its numerator (a sum: its measure) and its denominator the KPI whose 当月
-- rows hold the measure, the column holding it and whether it is a flow. A sum's denominator
-- names its numerator's again (ignored).
-- Each KPI gets its 当月 value and its 累计 value (flows summed from January to the month,
-- stocks read at the month) with the numerator and denominator they are formed from: a ratio
-- is numerator / NULLIF(denominator, 0) × factor (a missing sum counts as 0), a sum is its
-- measure; a month without fact rows has none of them.
-- One row per KPI and month its numerator's and its denominator's rows both hold, ordered by
-- KPI, then month.
WITH kpis AS (
    SELECT unnest(CAST($kpi_ids AS VARCHAR[])) AS kpi_id,
           unnest(CAST($ratios AS BOOLEAN[])) AS ratio,
           unnest(CAST($factors AS DOUBLE[])) AS factor,
           unnest(CAST($num_kpis AS VARCHAR[])) AS num_kpi,
           unnest(CAST($num_columns AS VARCHAR[])) AS num_column,
           unnest(CAST($num_flows AS BOOLEAN[])) AS num_flow,
           unnest(CAST($den_kpis AS VARCHAR[])) AS den_kpi,
           unnest(CAST($den_columns AS VARCHAR[])) AS den_column,
           unnest(CAST($den_flows AS BOOLEAN[])) AS den_flow
),
stored AS (
    SELECT kpi_id, month, value, numerator, denominator, fact_rows
    FROM kpi_results
    WHERE region_code = $region AND period = 'month'
),
measures AS (
    SELECT k.kpi_id, k.ratio, k.factor, k.num_flow, k.den_flow, n.month, n.fact_rows,
           CASE k.num_column WHEN 'value' THEN n.value WHEN 'numerator' THEN n.numerator ELSE n.denominator END
               AS num__month,
           CASE k.den_column WHEN 'value' THEN d.value WHEN 'numerator' THEN d.numerator ELSE d.denominator END
               AS den__month
    FROM kpis AS k
    JOIN stored AS n ON n.kpi_id = k.num_kpi
    JOIN stored AS d ON d.kpi_id = k.den_kpi AND d.month = n.month
),
running AS (
    SELECT *,
           CASE WHEN num_flow THEN sum(num__month) OVER ytd ELSE num__month END AS num__ytd,
           CASE WHEN den_flow THEN sum(den__month) OVER ytd ELSE den__month END AS den__ytd
    FROM measures
    WINDOW ytd AS (PARTITION BY kpi_id, year(month) ORDER BY month
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
formed AS (
    SELECT kpi_id, month, fact_rows, fact_rows > 0 AS has_rows, ratio, factor,
           num__month, num__ytd,
           CASE WHEN ratio THEN coalesce(num__month, 0) END AS ratio_num__month,
           CASE WHEN ratio THEN coalesce(den__month, 0) END AS ratio_den__month,
           CASE WHEN ratio THEN coalesce(num__ytd, 0) END AS ratio_num__ytd,
           CASE WHEN ratio THEN coalesce(den__ytd, 0) END AS ratio_den__ytd
    FROM running
)
SELECT kpi_id, month, fact_rows,
       CASE WHEN has_rows THEN (CASE WHEN ratio THEN ratio_num__month / NULLIF(ratio_den__month, 0) * factor
                                     ELSE num__month END) END AS value__month,
       CASE WHEN has_rows THEN (CASE WHEN ratio THEN ratio_num__month ELSE num__month END) END AS numerator__month,
       CASE WHEN has_rows THEN ratio_den__month END AS denominator__month,
       CASE WHEN has_rows THEN (CASE WHEN ratio THEN ratio_num__ytd / NULLIF(ratio_den__ytd, 0) * factor
                                     ELSE num__ytd END) END AS value__ytd,
       CASE WHEN has_rows THEN (CASE WHEN ratio THEN ratio_num__ytd ELSE num__ytd END) END AS numerator__ytd,
       CASE WHEN has_rows THEN ratio_den__ytd END AS denominator__ytd
FROM formed
ORDER BY kpi_id, month
