-- Twittcom runtime schema v2 (SQLite): durable work queues of the processor service.
-- Inbound queue: every accepted tweet/DM is committed here BEFORE the webhook answers 200 (or the
-- poller advances its cursor). (channel, message_id) is unique, so a redelivered webhook or a
-- mention seen by both webhook and poll collapses into one row. Workers claim rows with a lease
-- (lease_owner, lease_until), run them through the processor (idempotent by the core's inbox) and
-- then mark it done. A lease that runs out (a crashed worker) makes the row claimable again.
CREATE TABLE inbound_queue (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    author_id   TEXT NOT NULL,
    handle      TEXT NOT NULL,
    text        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    done        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (channel, message_id)
);
CREATE INDEX inbound_queue_pending ON inbound_queue (id) WHERE done = 0;

-- Outbox delivery state, kept by the dispatcher: lease, retries with backoff, the provider's id
-- (tweet id, DM event id, Twilio message sid), the last error and (SMS) the delivery status
-- reported by the status callback. priority 0 is commerce; larger numbers wait (outage replies).
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until INTEGER;
ALTER TABLE outbox ADD COLUMN provider_ref TEXT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
ALTER TABLE outbox ADD COLUMN delivery_status TEXT;
ALTER TABLE outbox ADD COLUMN delivered_at INTEGER;
CREATE INDEX outbox_pending ON outbox (priority, id) WHERE status = 'pending';
CREATE INDEX outbox_provider_ref ON outbox (provider_ref) WHERE provider_ref IS NOT NULL;

-- Polling cursors (since_id of mentions, newest DM event id seen) and service-wide state (outage mode).
CREATE TABLE ingest_cursors (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE runtime_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
