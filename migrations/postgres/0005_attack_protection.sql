-- Brute-force protection: failed logins per (IP, identifier), shared by all nodes.
CREATE TABLE login_failures (
    ip TEXT NOT NULL,
    identifier TEXT NOT NULL,
    failures BIGINT NOT NULL,
    blocked_until BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (ip, identifier)
);
CREATE INDEX login_failures_updated ON login_failures (updated_at);
