-- Rate limits: fixed-window hit counters per key (e.g. failed token requests
-- per IP), shared by all nodes.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    hits INTEGER NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
-- The Management API's user-blocks endpoints look blocks up by identifier.
CREATE INDEX login_failures_identifier ON login_failures (identifier);
