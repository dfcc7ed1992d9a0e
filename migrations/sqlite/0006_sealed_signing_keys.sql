-- Signing keys are sealed under the master key (gatehouse_core::sealing);
-- the column holds the sealed text, no longer plain PKCS#8. Rows written
-- before are sealed by the next start.
ALTER TABLE signing_keys RENAME COLUMN private_pkcs8 TO private_key;
