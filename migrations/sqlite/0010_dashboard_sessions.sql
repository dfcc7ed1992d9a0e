-- Dashboard sessions (/admin): the administrator's sign-in to the dashboard,
-- kept apart from SSO sessions so that one can never stand in for the other
-- and signing out of one leaves the other alone. Same shape as sso_sessions:
-- the cookie holds a random 256-bit id, only its SHA-256 is stored.

CREATE TABLE dashboard_sessions (
    id_hash TEXT PRIMARY KEY,
    sid TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    auth_time INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    ended_at INTEGER
);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);
