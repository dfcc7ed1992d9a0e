-- Email: the outgoing-mail queue and the single-use links (tickets) that
-- verification and password-reset emails carry.
--
-- A queued mail is an intent (which template, for which user), not a
-- rendered message: the worker that sends it creates the ticket and renders
-- the template at that moment, so a ticket's secret never rests in the
-- database. Nodes claim due mails with a lease (claimed_by, lease_until), so
-- one node sends each. A job (`POST /api/v2/jobs/verification-email`) is the
-- queued mail that carries its job_id.

CREATE TABLE mail_queue (
    id TEXT PRIMARY KEY,
    template TEXT NOT NULL,
    user_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    client_id TEXT,
    result_url TEXT,
    ttl_seconds BIGINT,
    job_id TEXT UNIQUE,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    lease_until BIGINT,
    last_error TEXT,
    sent_at BIGINT,
    failed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX mail_queue_due ON mail_queue (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_queue_created ON mail_queue (created_at);

CREATE TABLE user_tickets (
    id_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    client_id TEXT,
    result_url TEXT,
    mark_email_verified BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    superseded_at BIGINT
);
CREATE INDEX user_tickets_user ON user_tickets (user_id, kind);
CREATE INDEX user_tickets_expiry ON user_tickets (expires_at);
