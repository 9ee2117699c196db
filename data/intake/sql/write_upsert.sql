-- Insert new keys of {{table}} and overwrite existing ones (registers: items, projects, events).
INSERT INTO {{table}} ({{cols}})
SELECT {{cols}} FROM {{incoming}}
ON CONFLICT ({{keys}}) DO UPDATE SET {{assignments}};
