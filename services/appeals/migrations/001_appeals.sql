CREATE SEQUENCE appeal_number;

-- The appeal's current state; its history is the outbox's events (kept) and appeal_events.
CREATE TABLE appeals (
    id           text PRIMARY KEY,
    status       text        NOT NULL,
    sequence     integer     NOT NULL,
    title        text        NOT NULL,
    description  text        NOT NULL DEFAULT '',
    category     text        NOT NULL,
    district     text        NOT NULL,
    street       text,
    community    text,
    channel      text        NOT NULL,
    phone        text,       -- full number: personal data, never leaves this database
    contact_name text,
    contact_ref  text        NOT NULL,
    received_at  timestamptz NOT NULL,
    deadline     timestamptz
);
CREATE INDEX appeals_received_at ON appeals (received_at, id);

-- Idempotency-Key of POST /v1/appeals: one appeal per key, for good.
CREATE TABLE idempotency_keys (
    key        text PRIMARY KEY,
    appeal_id  text        NOT NULL REFERENCES appeals (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
