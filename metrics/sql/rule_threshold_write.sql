-- The project-rule month thresholds of metrics/rules.toml, written into the file being built
-- (one row: the table's key admits only `true`). Read by v_project_month and project_alerts.sql.
INSERT OR REPLACE INTO rule_threshold
    (one, not_started_months, trial_months, self_eval_from_months, self_eval_to_months)
VALUES (true, $not_started_months, $trial_months, $self_eval_from_months, $self_eval_to_months)
