-- Actions (Auth0's post-login, credentials-exchange and pre-user-registration
-- code). An Action is one JSON document (code, triggers, secrets sealed under
-- the master key, the deployed snapshot); its name is unique. A trigger's flow
-- is its ordered bindings; an execution records one run of a flow and is
-- purged after ten days.

CREATE TABLE actions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX actions_created ON actions (created_at, id);

CREATE TABLE action_bindings (
    id TEXT PRIMARY KEY,
    trigger_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    action_id TEXT NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (trigger_id, position)
);
CREATE INDEX action_bindings_action ON action_bindings (action_id);

CREATE TABLE action_executions (
    id TEXT PRIMARY KEY,
    trigger_id TEXT NOT NULL,
    status TEXT NOT NULL,
    results TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX action_executions_created ON action_executions (created_at);
