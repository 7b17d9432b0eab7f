-- 督办 as durable timers: one row per escalation level and deadline, written in the
-- transaction of the state change that sets the deadline (journal.record). The job claims
-- due rows with FOR UPDATE SKIP LOCKED, emits AppealEscalated and stamps fired_at in one
-- transaction, so each level goes out once, with any number of instances and restarts.
-- Unfired rows are deleted when the deadline changes or the appeal leaves the unit's
-- hands (return, resolve, reopen, close); fired rows stay as the record of what was sent.
CREATE TABLE supervision_timers (
    appeal_id text        NOT NULL REFERENCES appeals (id),
    level     text        NOT NULL CHECK (level IN ('reminder', 'overdue', 'criticism')),
    deadline  timestamptz NOT NULL,  -- the deadline the level belongs to
    due_at    timestamptz NOT NULL,
    fired_at  timestamptz,
    PRIMARY KEY (appeal_id, deadline, level)
);
CREATE INDEX supervision_timers_due ON supervision_timers (due_at) WHERE fired_at IS NULL;
