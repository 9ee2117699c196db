-- Replace whole partitions of {{table}} (e.g. one month × county) by the file's rows.
DELETE FROM {{table}} AS t
USING (SELECT DISTINCT {{partition}} FROM {{incoming}}) AS p
WHERE {{partition_match}};
INSERT INTO {{table}} BY NAME SELECT * FROM {{incoming}};
