-- 001: dimensions and monthly facts of the cockpit.
-- Money is stored in 万元 (DECIMAL so sums are exact); months are the first day of the month.
-- Every fact row sits at county grain, so province = Σ cities = Σ counties holds by construction.

CREATE TABLE region (
    code        VARCHAR PRIMARY KEY CHECK (regexp_full_match(code, '[0-9]{6}')),
    name        VARCHAR NOT NULL,
    level       VARCHAR NOT NULL CHECK (level IN ('province', 'city', 'county')),
    parent_code VARCHAR
);

-- ancestor → descendant pairs, including each region paired with itself (depth 0).
CREATE TABLE region_closure (
    ancestor_code   VARCHAR NOT NULL,
    descendant_code VARCHAR NOT NULL,
    depth           INTEGER NOT NULL,
    PRIMARY KEY (ancestor_code, descendant_code)
);

CREATE TABLE department (
    code       VARCHAR PRIMARY KEY,
    name       VARCHAR NOT NULL,
    short_name VARCHAR NOT NULL
);

CREATE TABLE service_item (
    item_code      VARCHAR PRIMARY KEY,
    name           VARCHAR NOT NULL,
    dept_code      VARCHAR NOT NULL REFERENCES department (code),
    item_type      VARCHAR NOT NULL,   -- 行政许可 / 行政确认 / 行政给付 / 公共服务 / 其他行政权力
    audience       VARCHAR NOT NULL CHECK (audience IN ('个人', '法人')),
    on_application BOOLEAN NOT NULL,   -- 依申请政务服务事项
    statutory_days INTEGER NOT NULL,   -- 法定时限（工作日）
    promised_days  INTEGER NOT NULL,   -- 承诺时限（工作日）
    -- flags as of the latest month; the monthly history is in service_monthly
    online_capable BOOLEAN NOT NULL,
    full_online    BOOLEAN NOT NULL,
    mobile         BOOLEAN NOT NULL,
    one_visit      BOOLEAN NOT NULL,
    zero_visit     BOOLEAN NOT NULL,
    one_thing      BOOLEAN NOT NULL,   -- "一件事"集成办理
    cross_province BOOLEAN NOT NULL,   -- 跨省通办
    CHECK (promised_days <= statutory_days)
);

-- month × county × department × item. Item flags are repeated per month because
-- availability grows over time (网上可办率 is a stock measured at month end).
-- No primary key: its index was 80% of the file at 10M rows; the builder and the
-- importer enforce one row per (month, county_code, item_code).
CREATE TABLE service_monthly (
    month              DATE    NOT NULL,
    county_code        VARCHAR NOT NULL,
    dept_code          VARCHAR NOT NULL,
    item_code          VARCHAR NOT NULL,
    is_online_capable  TINYINT NOT NULL,
    is_full_online     TINYINT NOT NULL,
    is_mobile          TINYINT NOT NULL,
    is_one_visit       TINYINT NOT NULL,
    is_zero_visit      TINYINT NOT NULL,
    applications       INTEGER NOT NULL,
    online_applications INTEGER NOT NULL,
    completed          INTEGER NOT NULL,
    completed_on_time  INTEGER NOT NULL,
    one_visit_done     INTEGER NOT NULL,
    zero_visit_done    INTEGER NOT NULL,
    good_reviews       INTEGER NOT NULL,
    bad_reviews        INTEGER NOT NULL,
    bad_fixed          INTEGER NOT NULL,
    licences_issued    INTEGER NOT NULL,
    e_licences_synced  INTEGER NOT NULL,
    CHECK (online_applications <= applications),
    CHECK (completed <= applications),
    CHECK (completed_on_time <= completed),
    CHECK (bad_fixed <= bad_reviews),
    CHECK (e_licences_synced <= licences_issued)
);

CREATE TABLE hotline_monthly (
    month         DATE    NOT NULL,
    county_code   VARCHAR NOT NULL,
    category      VARCHAR NOT NULL,  -- 咨询 / 求助 / 投诉 / 举报 / 建议
    received      INTEGER NOT NULL,
    due           INTEGER NOT NULL,
    closed_on_time INTEGER NOT NULL,
    called_back   INTEGER NOT NULL,
    satisfied     INTEGER NOT NULL,
    PRIMARY KEY (month, county_code, category),
    CHECK (due <= received),
    CHECK (called_back <= received),
    CHECK (closed_on_time <= due),
    CHECK (satisfied <= called_back)
);

-- 数据资源与基础设施 (indicators.md D), month × county × department.
CREATE TABLE data_resource_monthly (
    month            DATE    NOT NULL,
    county_code      VARCHAR NOT NULL,
    dept_code        VARCHAR NOT NULL,
    catalogs         INTEGER NOT NULL,  -- 数据资源目录数 (stock)
    share_requests   INTEGER NOT NULL,  -- 共享需求 (flow)
    share_fulfilled  INTEGER NOT NULL,
    quality_checks   INTEGER NOT NULL,  -- 质检项数 (flow)
    quality_points   DOUBLE  NOT NULL,  -- Σ 质检得分 (0–100 each)
    units_total      INTEGER NOT NULL,  -- 应接入电子政务外网单位数 (stock)
    units_covered    INTEGER NOT NULL,
    PRIMARY KEY (month, county_code, dept_code),
    CHECK (share_fulfilled <= share_requests),
    CHECK (units_covered <= units_total)
);

CREATE TABLE project (
    project_id        VARCHAR PRIMARY KEY,
    name              VARCHAR NOT NULL,
    owner_unit        VARCHAR NOT NULL,  -- 建设单位
    owner_level       VARCHAR NOT NULL CHECK (owner_level IN ('省级', '市级', '县级')),
    dept_code         VARCHAR NOT NULL,
    county_code       VARCHAR NOT NULL,  -- 建设地点（省、市级单位的项目记在其驻地县区）
    category          VARCHAR NOT NULL,  -- 基础设施 / 应用系统 / 数据资源 / 安全保障 / 运维服务
    tier              VARCHAR NOT NULL,  -- 较小 / 一般 / 较大 / 省重点
    approved_budget   DECIMAL(14, 2) NOT NULL,   -- 批复概算（万元）
    fund_source       VARCHAR NOT NULL,  -- 中央 / 省级 / 市级 / 县级 / 社会资本
    apply_year        INTEGER NOT NULL,
    planned_start     DATE,
    planned_finish    DATE,
    on_gov_cloud      BOOLEAN NOT NULL,
    classified        BOOLEAN NOT NULL,  -- 涉密系统不要求上云
    data_sharing_confirmed BOOLEAN NOT NULL,
    crypto_assessed   BOOLEAN NOT NULL,  -- 密码应用安全性评估
    mlps_level        TINYINT,           -- 等级保护级别 1–4
    performance_score DOUBLE,            -- 绩效评价得分 0–100
    terminated        BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE project_stage (
    stage      VARCHAR PRIMARY KEY,
    seq        INTEGER NOT NULL UNIQUE,
    label      VARCHAR NOT NULL
);

CREATE TABLE project_event (
    project_id VARCHAR NOT NULL REFERENCES project (project_id),
    stage      VARCHAR NOT NULL REFERENCES project_stage (stage),
    event_date DATE    NOT NULL,
    note       VARCHAR,
    PRIMARY KEY (project_id, stage)
);

CREATE TABLE budget (
    year        INTEGER NOT NULL,
    county_code VARCHAR NOT NULL,
    dept_code   VARCHAR NOT NULL,
    project_id  VARCHAR NOT NULL REFERENCES project (project_id),
    fund_source VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL CHECK (kind IN ('建设', '运维')),
    amount_wan  DECIMAL(14, 2) NOT NULL CHECK (amount_wan >= 0),
    PRIMARY KEY (year, project_id, fund_source, kind)
);

CREATE TABLE payment (
    month       DATE    NOT NULL,
    county_code VARCHAR NOT NULL,
    dept_code   VARCHAR NOT NULL,
    project_id  VARCHAR NOT NULL REFERENCES project (project_id),
    fund_source VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL CHECK (kind IN ('建设', '运维')),
    amount_wan  DECIMAL(14, 2) NOT NULL CHECK (amount_wan >= 0),
    PRIMARY KEY (month, project_id, fund_source, kind)
);

CREATE TABLE kpi_target (
    kpi_id      VARCHAR NOT NULL,
    region_code VARCHAR NOT NULL,
    year        INTEGER NOT NULL,
    target      DOUBLE  NOT NULL,
    source      VARCHAR NOT NULL,   -- 政策依据：文件 + 条款
    PRIMARY KEY (kpi_id, region_code, year)
);

CREATE TABLE task (
    task_id     INTEGER PRIMARY KEY,
    title       VARCHAR NOT NULL,
    summary     VARCHAR NOT NULL,
    lead_units  VARCHAR NOT NULL,   -- 牵头单位，顿号分隔
    deadline_text VARCHAR NOT NULL, -- 原文时限：6月底 / 长期 …
    deadline    DATE,               -- NULL for 长期
    status      VARCHAR NOT NULL CHECK (status IN ('未开始', '推进中', '已完成', '持续推进')),
    progress    INTEGER NOT NULL CHECK (progress BETWEEN 0 AND 100),
    progress_note VARCHAR,
    region_code VARCHAR NOT NULL,
    source      VARCHAR NOT NULL
);

CREATE SEQUENCE import_log_seq;
CREATE TABLE import_log (
    import_id   INTEGER PRIMARY KEY DEFAULT nextval('import_log_seq'),
    imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    source_name VARCHAR NOT NULL,
    target_table VARCHAR NOT NULL,
    rows_in     INTEGER NOT NULL,
    rows_loaded INTEGER NOT NULL,
    status      VARCHAR NOT NULL CHECK (status IN ('成功', '失败')),
    message     VARCHAR
);

-- the months the database holds data for; fact views are laid over it.
CREATE TABLE calendar (
    month DATE PRIMARY KEY CHECK (day(month) = 1)
);

-- key/value facts about the build: seed, end month, scale, data version.
CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
