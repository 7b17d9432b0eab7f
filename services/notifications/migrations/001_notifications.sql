-- What the consumer remembers of an appeal or project from earlier events, because later
-- events do not repeat it: the lead and co-handling units, the current deadline, the
-- citizen's opaque contact reference and masked phone (never the number), a project's
-- secretary. Written by the consumer; read when a rule names such a recipient.
CREATE TABLE subjects (
    kind              text        NOT NULL CHECK (kind IN ('appeal', 'project')),
    id                text        NOT NULL,
    unit              text,
    assisting_units   text[]      NOT NULL DEFAULT '{}',
    deadline          timestamptz,
    contact_ref       text,
    phone_masked      text CHECK (phone_masked IS NULL OR phone_masked ~ '^[0-9]{3}\*{4}[0-9]{4}$'),
    secretary_name    text,
    title             text,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, id)
);

-- Alertmanager notifications seen, per alert: Alertmanager delivers at least once and
-- repeats a group every repeat_interval, so (fingerprint, status, startsAt) acts once.
CREATE TABLE alerts_seen (
    fingerprint text        NOT NULL,
    status      text        NOT NULL CHECK (status IN ('firing', 'resolved')),
    starts_at   timestamptz NOT NULL,
    alertname   text        NOT NULL,
    severity    text        NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (fingerprint, status, starts_at)
);

-- A critical alert's page and its escalation along the on-call chain: `step` is the
-- position in the chain of whoever was paged last; the escalation job claims pages due
-- (escalate_at passed, neither acknowledged nor resolved) with FOR UPDATE SKIP LOCKED.
CREATE TABLE pages (
    id          text PRIMARY KEY,
    fingerprint text        NOT NULL,
    starts_at   timestamptz NOT NULL,
    alertname   text        NOT NULL,
    alert       jsonb       NOT NULL,  -- the alert as Alertmanager sent it (for escalations)
    chain       text[]      NOT NULL,
    step        integer     NOT NULL DEFAULT 0,
    escalate_at timestamptz,
    acked_at    timestamptz,
    acked_by    text,
    resolved_at timestamptz,
    created_at  timestamptz NOT NULL,
    UNIQUE (fingerprint, starts_at)
);
CREATE INDEX pages_due ON pages (escalate_at) WHERE acked_at IS NULL AND resolved_at IS NULL;

-- One delivery per (event, recipient, channel): redelivery and replay insert nothing.
-- For an alert, event_id is derived from (fingerprint, status, startsAt). `address` is
-- where the channel sends (URL, e-mail address) or, for SMS, the citizen's contact_ref,
-- resolved to a number only at send time. `next_attempt_at` is when the worker may try
-- again (the backoff, the quiet hours, or a lease while an attempt runs); the worker
-- claims due rows with FOR UPDATE SKIP LOCKED. `outcome_sequence` numbers the outcome
-- events of the delivery (an operator's retry may publish a second one).
CREATE TABLE deliveries (
    id               text PRIMARY KEY,
    event_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    event_time       timestamptz NOT NULL,
    rule             text        NOT NULL,
    recipient        text        NOT NULL,
    recipient_kind   text        NOT NULL,
    channel          text        NOT NULL CHECK (channel IN ('webhook', 'email', 'sms')),
    address          text        NOT NULL,
    subject_kind     text        NOT NULL CHECK (subject_kind IN ('appeal', 'project', 'alert')),
    subject_id       text        NOT NULL,
    page_id          text REFERENCES pages (id),
    title            text        NOT NULL,
    body             text        NOT NULL,
    payload          jsonb       NOT NULL,
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    deferred_until   timestamptz,
    last_error       text,
    budget_start     integer     NOT NULL DEFAULT 0,  -- attempts made before the last retry
    outcome_sequence integer     NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    UNIQUE (event_id, recipient, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_listing ON deliveries (created_at, id);
CREATE INDEX deliveries_subject ON deliveries (subject_id);

-- Every attempt of a delivery, with what the other side answered.
CREATE TABLE attempts (
    delivery_id   text        NOT NULL REFERENCES deliveries (id),
    number        integer     NOT NULL CHECK (number >= 1),
    at            timestamptz NOT NULL,
    result        text        NOT NULL CHECK (result IN ('delivered', 'retry', 'failed', 'disabled')),
    response_code integer,
    error         text,
    duration_ms   integer     NOT NULL,
    PRIMARY KEY (delivery_id, number)
);

-- Endpoints that answered 410 Gone: later deliveries to them fail without being sent,
-- until an operator retries a delivery to one (which enables it again).
CREATE TABLE disabled_endpoints (
    channel     text        NOT NULL,
    address     text        NOT NULL,
    disabled_at timestamptz NOT NULL,
    reason      text        NOT NULL,
    PRIMARY KEY (channel, address)
);
