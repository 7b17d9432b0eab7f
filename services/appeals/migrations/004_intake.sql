-- Intake from other government systems (minsheng.intake.appeals.v1, see intake.py).

-- Each intake event once, for good: (source, id) is the CloudEvents identity of an event.
-- A rejected event rolls back with its transaction, so a corrected resend may still apply.
CREATE TABLE intake_seen (
    source    text        NOT NULL,
    event_id  text        NOT NULL,
    appeal_id text        REFERENCES appeals (id),
    seen_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, event_id)
);

-- The appeals other systems sent us, by their own (source, subject): where their later
-- events (a call-back's SatisfactionRecorded) find our appeal.
CREATE TABLE intake_appeals (
    source    text NOT NULL,
    subject   text NOT NULL,
    appeal_id text NOT NULL UNIQUE REFERENCES appeals (id),
    PRIMARY KEY (source, subject)
);
