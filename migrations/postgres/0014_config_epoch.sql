-- The configuration epoch: one number that every change to a table the
-- store's configuration cache reads from moves, in the same transaction as
-- the change. Each node reads it every 250 ms and empties its cache when it
-- moved, so a change made by another node (or by the CLI, or by hand in SQL)
-- is seen everywhere within about a quarter of a second.
CREATE TABLE config_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch BIGINT NOT NULL
);
INSERT INTO config_epoch (id, epoch) VALUES (1, 0);

CREATE FUNCTION gatehouse_bump_config_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tenant_settings_config_epoch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenant_settings
    FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_config_epoch();

CREATE TRIGGER signing_keys_config_epoch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_config_epoch();

CREATE TRIGGER clients_config_epoch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_config_epoch();

CREATE TRIGGER resource_servers_config_epoch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON resource_servers
    FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_config_epoch();

CREATE TRIGGER client_grants_config_epoch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON client_grants
    FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_bump_config_epoch();
