CREATE SEQUENCE project_number;

-- A project's current state (what lists and the ledger read). Its history, the truth,
-- is project_events; commands rebuild the state by replaying it (lifecycle.replay).
CREATE TABLE projects (
    id                     text PRIMARY KEY,
    status                 text        NOT NULL,
    sequence               integer     NOT NULL,
    year                   integer     NOT NULL,
    title                  text        NOT NULL,
    category               text        NOT NULL,
    level                  text        NOT NULL,
    secretary_name         text        NOT NULL,
    secretary_organisation text        NOT NULL,
    district               text        NOT NULL,
    street                 text,
    community              text,
    unit                   text        NOT NULL,
    planned_start          date        NOT NULL,
    planned_end            date        NOT NULL,
    progress               integer     NOT NULL DEFAULT 0,
    milestones             jsonb       NOT NULL DEFAULT '[]',
    completed_on           date,
    on_time                boolean,
    flags                  text[]      NOT NULL DEFAULT '{}',
    ratings                text[]      NOT NULL DEFAULT '{}',
    claimed_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL
);
CREATE INDEX projects_claimed_at ON projects (claimed_at, id);
CREATE INDEX projects_year ON projects (year, level, district);
CREATE INDEX projects_unit ON projects (unit, status);

-- Every event of every project, in order, as it went to the outbox.
CREATE TABLE project_events (
    project_id text        NOT NULL REFERENCES projects (id),
    sequence   integer     NOT NULL CHECK (sequence >= 1),
    type       text        NOT NULL,
    data       jsonb       NOT NULL,
    time       timestamptz NOT NULL,
    event_id   uuid        NOT NULL UNIQUE,
    PRIMARY KEY (project_id, sequence)
);

-- 年初立账 / 年底交账: a year's ledger is open unless a supervisor closed it.
CREATE TABLE ledgers (
    year       integer PRIMARY KEY,
    closed_by  text,
    closed_at  timestamptz
);

-- Durable timers: a milestone's due day and the project's planned end. Written in the
-- transaction of every state change (journal.record); the job claims due rows with
-- FOR UPDATE SKIP LOCKED and emits the event and stamps fired_at in one transaction, so
-- each goes out once with any number of instances and restarts. Unfired rows the state
-- no longer wants are deleted; fired rows stay as the record of what was sent.
CREATE TABLE project_timers (
    project_id   text        NOT NULL REFERENCES projects (id),
    kind         text        NOT NULL CHECK (kind IN ('milestone', 'notice')),
    milestone_id text        NOT NULL DEFAULT '',  -- '' for the notice
    due_on       date        NOT NULL,
    fires_at     timestamptz NOT NULL,
    fired_at     timestamptz,
    PRIMARY KEY (project_id, kind, milestone_id, due_on)
);
CREATE INDEX project_timers_due ON project_timers (fires_at) WHERE fired_at IS NULL;

-- Intake from other systems: each (source, id) once, for good; a rejected event rolls
-- back with its transaction, so a corrected resend may still apply.
CREATE TABLE intake_seen (
    source     text        NOT NULL,
    event_id   text        NOT NULL,
    project_id text        REFERENCES projects (id),
    seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, event_id)
);
