-- Leases: which node runs a background job (expired-data purging) right now.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Purging deletes in small batches by expiry; these indexes keep each batch cheap.
CREATE INDEX device_codes_expiry ON device_codes (expires_at);
CREATE INDEX used_jtis_expiry ON used_jtis (expires_at);
CREATE INDEX refresh_families_expiry ON refresh_families (expires_at);
CREATE INDEX refresh_families_revoked ON refresh_families (revoked_at);
