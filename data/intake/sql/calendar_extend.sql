-- A month reported for the first time joins the calendar the fact views are laid over.
INSERT INTO calendar
SELECT DISTINCT month FROM {{incoming}}
WHERE month NOT IN (SELECT month FROM calendar);
