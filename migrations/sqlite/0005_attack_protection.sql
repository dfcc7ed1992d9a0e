-- Brute-force protection: failed logins per (IP, identifier), shared by all nodes.
CREATE TABLE login_failures (
    ip TEXT NOT NULL,
    identifier TEXT NOT NULL,
    failures INTEGER NOT NULL,
    blocked_until INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (ip, identifier)
);
CREATE INDEX login_failures_updated ON login_failures (updated_at);
