-- Twittcom reference schema v1 (SQLite). Timestamps are integer microseconds since the epoch (UTC).
CREATE TABLE subscribers (
    msisdn        TEXT PRIMARY KEY,
    circle        TEXT NOT NULL,
    balance_paise INTEGER NOT NULL CHECK (balance_paise >= 0),
    active        INTEGER NOT NULL DEFAULT 1,
    prepaid       INTEGER NOT NULL DEFAULT 1,
    name          TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE bindings (
    user_id  TEXT PRIMARY KEY,
    handle   TEXT NOT NULL,
    msisdn   TEXT NOT NULL UNIQUE,
    bound_at INTEGER NOT NULL
);

CREATE TABLE otp_codes (
    user_id    TEXT PRIMARY KEY,
    handle     TEXT NOT NULL,
    msisdn     TEXT NOT NULL,
    code_hash  TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'used', 'void'))
);

CREATE TABLE otp_sends (
    id      INTEGER PRIMARY KEY,
    msisdn  TEXT NOT NULL,
    sent_at INTEGER NOT NULL
);
CREATE INDEX otp_sends_msisdn ON otp_sends (msisdn, sent_at);

CREATE TABLE inbox (
    channel      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    handle       TEXT NOT NULL,
    text         TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, channel)
) WITHOUT ROWID;
CREATE INDEX inbox_user ON inbox (user_id);

CREATE TABLE activations (
    id            INTEGER PRIMARY KEY,
    msisdn        TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    pack_id       TEXT NOT NULL,
    pack_name     TEXT NOT NULL,
    hashtag       TEXT NOT NULL,
    circle        TEXT NOT NULL,
    price_paise   INTEGER NOT NULL CHECK (price_paise > 0),
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    channel       TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    activated_at  INTEGER NOT NULL,
    valid_until   TEXT NOT NULL
);
CREATE INDEX activations_user ON activations (user_id);

CREATE TABLE customer_events (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    handle  TEXT NOT NULL,
    msisdn  TEXT,
    kind    TEXT NOT NULL,
    text    TEXT NOT NULL
);
CREATE INDEX customer_events_user ON customer_events (user_id);

-- Transactional outbox: written in the same transaction as the change it announces, drained by a
-- dispatcher after commit. ``shown`` is what the customer timeline displays (codes redacted).
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('tweet', 'dm', 'sms')),
    user_id     TEXT NOT NULL,
    handle      TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    in_reply_to TEXT,
    text        TEXT NOT NULL,
    shown       TEXT,
    status      TEXT NOT NULL DEFAULT 'pending',
    sent_at     INTEGER
);
CREATE INDEX outbox_user ON outbox (user_id);

-- The customer timeline (CRM view): every inbound message, debit, link event and outbound message.
CREATE VIEW timeline (at, prio, id, user_id, handle, msisdn, kind, text, amount_paise, ref) AS
    SELECT received_at, 0, 0, user_id, handle, NULL, channel || '_in', text, NULL, message_id FROM inbox
    UNION ALL
    SELECT activated_at, 1, id, user_id, NULL, msisdn, 'debit', pack_name, -price_paise, message_id
    FROM activations
    UNION ALL
    SELECT at, 2, id, user_id, handle, msisdn, kind, text, NULL, NULL FROM customer_events
    UNION ALL
    SELECT created_at, 3, id, user_id, handle, CASE WHEN kind = 'sms' THEN recipient END, kind || '_out',
           coalesce(shown, text), NULL, in_reply_to
    FROM outbox;
