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

-- SQLite has row triggers only: one per table and kind of change.
CREATE TRIGGER tenant_settings_insert_config_epoch AFTER INSERT ON tenant_settings
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER tenant_settings_update_config_epoch AFTER UPDATE ON tenant_settings
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER tenant_settings_delete_config_epoch AFTER DELETE ON tenant_settings
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER signing_keys_insert_config_epoch AFTER INSERT ON signing_keys
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER signing_keys_update_config_epoch AFTER UPDATE ON signing_keys
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER signing_keys_delete_config_epoch AFTER DELETE ON signing_keys
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER clients_insert_config_epoch AFTER INSERT ON clients
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER clients_update_config_epoch AFTER UPDATE ON clients
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER clients_delete_config_epoch AFTER DELETE ON clients
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER resource_servers_insert_config_epoch AFTER INSERT ON resource_servers
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER resource_servers_update_config_epoch AFTER UPDATE ON resource_servers
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER resource_servers_delete_config_epoch AFTER DELETE ON resource_servers
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER client_grants_insert_config_epoch AFTER INSERT ON client_grants
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER client_grants_update_config_epoch AFTER UPDATE ON client_grants
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER client_grants_delete_config_epoch AFTER DELETE ON client_grants
BEGIN
    UPDATE config_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
