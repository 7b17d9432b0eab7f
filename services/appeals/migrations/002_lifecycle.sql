-- The lifecycle: the state's columns on `appeals` (what lists and filters read) and each
-- appeal's history, kept forever. Commands rebuild the state by replaying the history
-- (lifecycle.replay), so the columns are a projection and the history the truth.
ALTER TABLE appeals
    ADD COLUMN unit            text,
    ADD COLUMN assisting_units text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN resolved_at     timestamptz,
    ADD COLUMN on_time         boolean,
    ADD COLUMN rating          text,
    ADD COLUMN outcome         text,
    ADD COLUMN updated_at      timestamptz;
UPDATE appeals SET updated_at = received_at;
ALTER TABLE appeals ALTER COLUMN updated_at SET NOT NULL;
CREATE INDEX appeals_unit ON appeals (unit, status);
CREATE INDEX appeals_status ON appeals (status, deadline);

-- 一汇一报一跟一反馈: every event of every appeal, in order, as it went to the outbox.
CREATE TABLE appeal_events (
    appeal_id text        NOT NULL REFERENCES appeals (id),
    sequence  integer     NOT NULL CHECK (sequence >= 1),
    type      text        NOT NULL,
    data      jsonb       NOT NULL,
    time      timestamptz NOT NULL,
    event_id  uuid        NOT NULL UNIQUE,
    PRIMARY KEY (appeal_id, sequence)
);

-- Appeals received before this migration: their AppealReceived is still in the outbox.
INSERT INTO appeal_events (appeal_id, sequence, type, data, time, event_id)
SELECT aggregate_id, sequence, event_type, payload::jsonb -> 'data',
       (payload::jsonb ->> 'time')::timestamptz, event_id
FROM outbox
WHERE topic = 'minsheng.appeals.v1' AND aggregate_id IN (SELECT id FROM appeals);
