-- Gatehouse schema, SQLite dialect. Times are epoch seconds; JSON documents are TEXT.
-- Objects that the Management API renders whole are stored as a JSON `body`
-- beside the columns that queries filter on.

CREATE TABLE tenant_settings (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    state TEXT NOT NULL,
    private_pkcs8 TEXT NOT NULL,
    cert_der TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    state_changed_at INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE resource_servers (
    id TEXT PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE client_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT REFERENCES clients (client_id) ON DELETE CASCADE,
    default_for TEXT,
    audience TEXT NOT NULL REFERENCES resource_servers (identifier) ON DELETE CASCADE,
    subject_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX client_grants_unique ON client_grants (client_id, audience, subject_type);
CREATE INDEX client_grants_audience ON client_grants (audience);

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    connection TEXT NOT NULL,
    email TEXT,
    email_norm TEXT,
    name TEXT,
    password_hash TEXT,
    blocked INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_connection_email ON users (connection, email_norm);

CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE role_permissions (
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    resource_server_identifier TEXT NOT NULL REFERENCES resource_servers (identifier) ON DELETE CASCADE,
    permission_name TEXT NOT NULL,
    PRIMARY KEY (role_id, resource_server_identifier, permission_name)
);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE user_permissions (
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    resource_server_identifier TEXT NOT NULL REFERENCES resource_servers (identifier) ON DELETE CASCADE,
    permission_name TEXT NOT NULL,
    PRIMARY KEY (user_id, resource_server_identifier, permission_name)
);

CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    redeemed_at INTEGER,
    issued_family_id TEXT
);
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);

CREATE TABLE refresh_families (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX refresh_families_user_client ON refresh_families (user_id, client_id, created_at);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    rotated_at INTEGER,
    replaced_by TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE opaque_tokens (
    token_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX opaque_tokens_expiry ON opaque_tokens (expires_at);

CREATE TABLE device_codes (
    device_code_hash TEXT PRIMARY KEY,
    user_code TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    user_id TEXT,
    expires_at INTEGER NOT NULL,
    last_polled_at INTEGER
);

CREATE TABLE used_jtis (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
);

CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    audience TEXT NOT NULL,
    scope TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id, audience)
);

CREATE TABLE log_events (
    id TEXT PRIMARY KEY,
    date INTEGER NOT NULL,
    type TEXT NOT NULL,
    client_id TEXT,
    user_id TEXT,
    description TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX log_events_date ON log_events (date);
