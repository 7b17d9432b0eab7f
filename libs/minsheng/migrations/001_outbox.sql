-- Transactional outbox: events written in the same transaction as the state they describe.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    topic        text        NOT NULL,
    aggregate_id text        NOT NULL,
    sequence     integer     NOT NULL CHECK (sequence >= 1),
    event_id     uuid        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    payload      text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    UNIQUE (topic, aggregate_id, sequence)
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
