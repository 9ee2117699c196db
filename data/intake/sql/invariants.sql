-- Invariants a version must satisfy before it is published; each row is a violation.
-- 1. every fact row sits at a county of this province;
-- 2. every county lies under the province once, under at most one direct child of it;
-- 3. for the months the change touched, the province's totals equal the sums over the
--    province's direct children (cities, or county-level units under the province).
WITH counties AS (
    SELECT code FROM region WHERE level = 'county'
),
root AS (
    SELECT code FROM region WHERE parent_code IS NULL AND level = 'province'
),
fact_counties AS (
    SELECT 'service_monthly' AS fact, county_code FROM service_monthly
    UNION ALL SELECT 'hotline_monthly', county_code FROM hotline_monthly
    UNION ALL SELECT 'data_resource_monthly', county_code FROM data_resource_monthly
    UNION ALL SELECT 'payment', county_code FROM payment
    UNION ALL SELECT 'budget', county_code FROM budget
    UNION ALL SELECT 'project', county_code FROM project
),
stray AS (
    SELECT DISTINCT '数据行的区县不是本省的县级区划' AS rule, fact || ':' || county_code AS detail
    FROM fact_counties
    WHERE county_code NOT IN (SELECT code FROM counties)
),
placement AS (
    SELECT c.code,
           count(*) FILTER (WHERE rc.ancestor_code IN (SELECT code FROM root)) AS under_root,
           count(*) FILTER (WHERE r.parent_code IN (SELECT code FROM root)) AS under_child
    FROM counties AS c
    JOIN region_closure AS rc ON rc.descendant_code = c.code
    JOIN region AS r ON r.code = rc.ancestor_code
    GROUP BY c.code
),
misplaced AS (
    SELECT '县级区划的上级关系不唯一' AS rule, code AS detail
    FROM placement
    WHERE under_root <> 1 OR under_child <> 1
),
touched AS (
    SELECT month FROM _touched_months
),
totals AS (
    SELECT f.month,
           sum(f.applications) FILTER (WHERE rc.ancestor_code IN (SELECT code FROM root))    AS province,
           sum(f.applications) FILTER (WHERE r.parent_code IN (SELECT code FROM root))       AS children
    FROM service_monthly AS f
    JOIN region_closure AS rc ON rc.descendant_code = f.county_code
    JOIN region AS r ON r.code = rc.ancestor_code
    WHERE f.month IN (SELECT month FROM touched)
    GROUP BY f.month
),
unbalanced AS (
    SELECT '全省合计不等于下级合计（办件量）' AS rule, strftime(month, '%Y-%m') AS detail
    FROM totals
    WHERE province IS DISTINCT FROM children
)
SELECT * FROM stray
UNION ALL SELECT * FROM misplaced
UNION ALL SELECT * FROM unbalanced
LIMIT 50
