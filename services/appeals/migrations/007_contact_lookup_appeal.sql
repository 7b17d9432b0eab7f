-- A contact lookup names the appeal it was made for (the one whose contact was read, or
-- asked for) and the unit of a unit key, so "who read whose number, for which appeal,
-- when and why" is one row. Older rows have neither.
ALTER TABLE contact_lookups
    ADD COLUMN appeal_id text,
    ADD COLUMN unit      text;
CREATE INDEX contact_lookups_appeal ON contact_lookups (appeal_id, at);
