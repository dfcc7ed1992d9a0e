-- Lists that page through large tables in SQL need an index in their order.
--
-- The members of a role (`GET /api/v2/roles/{id}/users`): the primary key
-- of user_roles starts with user_id, so without this a role's members are
-- found by reading every assignment.
CREATE INDEX user_roles_role ON user_roles (role_id, user_id);
-- The log search orders by date then id: with id in the index the order is
-- read from it, not sorted after reading every match. Each replaces an
-- index that was its prefix.
CREATE INDEX log_events_date_id ON log_events (date, id);
CREATE INDEX log_events_type_date_id ON log_events (type, date, id);
CREATE INDEX log_events_user_date_id ON log_events (user_id, date, id);
CREATE INDEX log_events_client_date_id ON log_events (client_id, date, id);
DROP INDEX log_events_date;
DROP INDEX log_events_type_date;
DROP INDEX log_events_user;
DROP INDEX log_events_client;
-- A bare word in the user search (`q=ann`) is a substring match on four
-- columns. With pg_trgm, a trigram index answers it without reading every
-- user. Creating the extension needs a superuser or the database owner (it
-- is a trusted extension); where that fails, the search scans as before.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available: a bare-word user search scans';
END $$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX users_text_trgm ON users USING gin (
            email_norm gin_trgm_ops,
            name_norm gin_trgm_ops,
            nickname_norm gin_trgm_ops,
            (LOWER(user_id)) gin_trgm_ops
        );
    END IF;
END $$;

-- The cap of 200 active refresh-token families per user and application
-- walks only the active ones, however many revoked ones the user has.
CREATE INDEX refresh_families_active ON refresh_families (user_id, client_id, created_at)
    WHERE revoked_at IS NULL;
