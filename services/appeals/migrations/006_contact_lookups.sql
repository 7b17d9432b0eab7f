-- Every lookup of a citizen's contact (GET /v1/contacts/{ref}), allowed or refused: who
-- asked for whose number, why, and whether it was answered. The number itself is not here.
CREATE TABLE contact_lookups (
    id          bigserial PRIMARY KEY,
    contact_ref text        NOT NULL,
    key_name    text        NOT NULL,
    role        text        NOT NULL,
    purpose     text,
    allowed     boolean     NOT NULL,
    found       boolean     NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX contact_lookups_ref ON contact_lookups (contact_ref, at);
CREATE INDEX appeals_contact_ref ON appeals (contact_ref);
