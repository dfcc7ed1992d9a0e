-- SSO sessions (the browser's login at Gatehouse). The cookie holds a random
-- 256-bit id; only its SHA-256 is stored. `sid` is the public session id
-- carried in ID tokens. Times are epoch seconds.

CREATE TABLE sso_sessions (
    id_hash TEXT PRIMARY KEY,
    sid TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    auth_time BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX sso_sessions_user ON sso_sessions (user_id);
CREATE INDEX sso_sessions_expiry ON sso_sessions (expires_at);
CREATE INDEX sso_sessions_idle_expiry ON sso_sessions (idle_expires_at);
CREATE INDEX sso_sessions_ended ON sso_sessions (ended_at);
