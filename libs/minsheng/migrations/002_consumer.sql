-- Highest sequence applied per (consumer, aggregate): makes redelivery and replay harmless.
CREATE TABLE applied_sequences (
    consumer     text        NOT NULL,
    aggregate_id text        NOT NULL,
    sequence     integer     NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, aggregate_id)
);
