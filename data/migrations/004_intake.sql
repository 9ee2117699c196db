-- 004: data intake. Each published version records how fresh every fact family is; 督办
-- progress carries an evidence link. The import history moved to the operational store
-- (data/opstore.py): failed attempts must be recorded without publishing a version.

CREATE TABLE fact_freshness (
    family      VARCHAR PRIMARY KEY,   -- data/intake/schedule.toml
    as_of_month DATE,                  -- the latest month the family holds
    updated_at  TIMESTAMP NOT NULL,    -- when that data was published
    version     INTEGER NOT NULL       -- the data version that published it
);

ALTER TABLE task ADD COLUMN evidence_url VARCHAR;

DROP TABLE import_log;
DROP SEQUENCE import_log_seq;
