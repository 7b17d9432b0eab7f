CREATE SEQUENCE list_item_number;

-- 四项清单: an item's current state (what the public listing reads). Its history, the
-- truth, is list_item_events; commands rebuild the state by replaying it (lists.replay).
CREATE TABLE list_items (
    id              text PRIMARY KEY,
    year            integer     NOT NULL,
    district        text        NOT NULL,
    street          text,
    community       text        NOT NULL,
    kind            text        NOT NULL,
    source          text        NOT NULL,
    appeal_id       text,
    title           text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    status          text        NOT NULL,
    sequence        integer     NOT NULL,
    matched_item_id text,
    claimed_by      text,
    due             date,
    completed_on    date,
    on_time         boolean,
    ratings         text[]      NOT NULL DEFAULT '{}',
    posted_at       timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX list_items_community ON list_items (community, year, kind, posted_at, id);

CREATE TABLE list_item_events (
    list_item_id text        NOT NULL REFERENCES list_items (id),
    sequence     integer     NOT NULL CHECK (sequence >= 1),
    type         text        NOT NULL,
    data         jsonb       NOT NULL,
    time         timestamptz NOT NULL,
    event_id     uuid        NOT NULL UNIQUE,
    PRIMARY KEY (list_item_id, sequence)
);

-- 社区工作日: the pairings of the reference data (workdays.yaml), as the service first
-- knew them; watched_from is the first month the missed-visit timer watches.
CREATE TABLE pairings (
    id           text PRIMARY KEY,
    unit         text        NOT NULL,
    district     text        NOT NULL,
    community    text        NOT NULL,
    watched_from date        NOT NULL,
    sequence     integer     NOT NULL DEFAULT 0,
    visits       integer     NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE pairing_events (
    pairing_id text        NOT NULL REFERENCES pairings (id),
    sequence   integer     NOT NULL CHECK (sequence >= 1),
    type       text        NOT NULL,
    data       jsonb       NOT NULL,
    time       timestamptz NOT NULL,
    event_id   uuid        NOT NULL UNIQUE,
    PRIMARY KEY (pairing_id, sequence)
);

-- The missed-visit timer: one unfired row per pairing, for its earliest month neither
-- visited nor reported (visits.due); fired rows stay as the record of what was sent.
CREATE TABLE workday_timers (
    pairing_id text        NOT NULL REFERENCES pairings (id),
    kind       text        NOT NULL CHECK (kind = 'missed_visit'),
    month      date        NOT NULL,
    fires_at   timestamptz NOT NULL,
    fired_at   timestamptz,
    PRIMARY KEY (pairing_id, kind, month)
);
CREATE INDEX workday_timers_due ON workday_timers (fires_at) WHERE fired_at IS NULL;
