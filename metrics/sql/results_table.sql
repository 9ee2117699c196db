-- The KPI results computed at publish (metrics/results.py): one row per month × period ×
-- KPI × region, as the whole province sees it. The columns after region_code are the
-- engine's result (metrics/engine.py _compute_frame); fact_rows counts the fact rows
-- behind the current window (a 当月 row's count tells a series whether the month has data).
CREATE OR REPLACE TABLE kpi_results (
    month         DATE    NOT NULL,
    period        VARCHAR NOT NULL,   -- ytd (累计) | month (当月)
    kpi_id        VARCHAR NOT NULL,
    region_code   VARCHAR NOT NULL,
    value         DOUBLE,
    numerator     DOUBLE,
    denominator   DOUBLE,
    prev_value    DOUBLE,             -- 环比 window's value
    ly_value      DOUBLE,             -- 同比 window's value
    mom_change    DOUBLE,
    yoy_change    DOUBLE,
    target        DOUBLE,
    target_source VARCHAR,
    gap           DOUBLE,
    rag           VARCHAR,
    has_data      BOOLEAN NOT NULL,
    fact_rows     DOUBLE
)
