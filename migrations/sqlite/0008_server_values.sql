-- Named server-wide values that are not tenant settings and are shared by all
-- nodes: the database connection's options, the CSRF signing key.
CREATE TABLE server_values (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
