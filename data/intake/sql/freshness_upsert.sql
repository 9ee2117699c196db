-- Record when a family's data was published and the latest month it now holds.
INSERT OR REPLACE INTO fact_freshness (family, as_of_month, updated_at, version)
VALUES ($family, $as_of_month, $updated_at, $version)
