-- Overwrite the reported columns of existing rows of {{table}} (督办 progress).
UPDATE {{table}} AS t
SET {{assignments}}
FROM {{incoming}} AS i
WHERE {{key_match}};
