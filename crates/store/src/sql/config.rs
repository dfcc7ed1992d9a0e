//! Tenant settings, signing keys, clients, APIs and client grants.
//!
//! The reads the request path makes go through the store's
//! [`ConfigCache`](super::config_cache::ConfigCache); every write here empties
//! it once done (also when it failed: part of it may have happened).

use super::config_cache::Key;
use super::{body, expect_one, to_json, SqlStore};
use crate::error::{StoreError, StoreResult};
use crate::{ConfigStore, Page, StoredClient, StoredKey};
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_core::model::{ClientGrant, ResourceServer, SigningAlg, SubjectType, TenantSettings};
use sqlx::any::AnyRow;
use sqlx::Row;

fn decode_b64(text: &str) -> StoreResult<Vec<u8>> {
    STANDARD
        .decode(text)
        .map_err(|e| StoreError::Corrupt(format!("key material: {e}")))
}

fn key_from_row(row: &AnyRow) -> StoreResult<StoredKey> {
    let alg: String = row.try_get("alg")?;
    Ok(StoredKey {
        kid: row.try_get("kid")?,
        alg: SigningAlg::parse(&alg).ok_or_else(|| StoreError::Corrupt(format!("alg {alg}")))?,
        state: row.try_get("state")?,
        private_key: row.try_get("private_key")?,
        cert_der: decode_b64(&row.try_get::<String, _>("cert_der")?)?,
        created_at: row.try_get("created_at")?,
        state_changed_at: row.try_get("state_changed_at")?,
    })
}

fn client_from_row(row: &AnyRow) -> StoreResult<StoredClient> {
    Ok(StoredClient {
        client: body(row)?,
        secret_hash: row.try_get("secret_hash")?,
    })
}

fn subject_type_str(t: SubjectType) -> &'static str {
    match t {
        SubjectType::Client => "client",
        SubjectType::User => "user",
    }
}

#[async_trait]
impl ConfigStore for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn backend_name(&self) -> &'static str {
        match self.backend {
            super::Backend::Sqlite => "sqlite",
            super::Backend::Postgres => "postgres",
        }
    }

    async fn tenant_settings(&self) -> StoreResult<TenantSettings> {
        self.config_cache
            .get_or_load(&self.pool, Key::TenantSettings, self.load_tenant_settings())
            .await
    }

    async fn put_tenant_settings(&self, settings: &TenantSettings) -> StoreResult<()> {
        let written = sqlx::query(
            "INSERT INTO tenant_settings (id, body) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body",
        )
        .bind(to_json(settings))
        .execute(&self.pool)
        .await;
        self.config_cache.clear();
        written?;
        Ok(())
    }

    async fn server_value(&self, name: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT body FROM server_values WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => Some(row.try_get("body")?),
            None => None,
        })
    }

    async fn put_server_value(&self, name: &str, body: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO server_values (name, body) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET body = excluded.body",
        )
        .bind(name)
        .bind(body)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn server_value_or_insert(&self, name: &str, body: &str) -> StoreResult<String> {
        sqlx::query(
            "INSERT INTO server_values (name, body) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(body)
        .execute(&self.pool)
        .await?;
        self.server_value(name)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("server value {name} vanished")))
    }

    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
        self.config_cache
            .get_or_load(&self.pool, Key::SigningKeys, self.load_signing_keys())
            .await
    }

    async fn insert_signing_key(&self, key: &StoredKey) -> StoreResult<()> {
        let written = sqlx::query(
            "INSERT INTO signing_keys (kid, alg, state, private_key, cert_der, created_at, state_changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.kid)
        .bind(key.alg.as_str())
        .bind(&key.state)
        .bind(&key.private_key)
        .bind(STANDARD.encode(&key.cert_der))
        .bind(key.created_at)
        .bind(key.state_changed_at)
        .execute(&self.pool)
        .await;
        self.config_cache.clear();
        written.map_err(|e| StoreError::from_write(e, "signing key kid"))?;
        Ok(())
    }

    async fn set_signing_key_state(&self, kid: &str, state: &str, now: i64) -> StoreResult<()> {
        let written =
            sqlx::query("UPDATE signing_keys SET state = $1, state_changed_at = $2 WHERE kid = $3")
                .bind(state)
                .bind(now)
                .bind(kid)
                .execute(&self.pool)
                .await;
        self.config_cache.clear();
        expect_one(written?)
    }

    async fn replace_signing_key_private_keys(&self, keys: &[(String, String)]) -> StoreResult<()> {
        let replaced = self.replace_private_keys_in_transaction(keys).await;
        self.config_cache.clear();
        replaced
    }

    async fn create_client(&self, client: &StoredClient, now: i64) -> StoreResult<()> {
        let written = sqlx::query(
            "INSERT INTO clients (client_id, name, secret_hash, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&client.client.client_id)
        .bind(&client.client.name)
        .bind(client.secret_hash.clone())
        .bind(to_json(&client.client))
        .bind(now)
        .execute(&self.pool)
        .await;
        self.config_cache.clear();
        written.map_err(|e| StoreError::from_write(e, "client_id"))?;
        Ok(())
    }

    async fn client(&self, client_id: &str) -> StoreResult<Option<StoredClient>> {
        let key = Key::Client(client_id.to_owned());
        self.config_cache
            .get_or_load_found(&self.pool, key, self.load_client(client_id))
            .await
    }

    async fn update_client(&self, client: &StoredClient) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE clients SET name = $1, secret_hash = $2, body = $3 WHERE client_id = $4",
        )
        .bind(&client.client.name)
        .bind(client.secret_hash.clone())
        .bind(to_json(&client.client))
        .bind(&client.client.client_id)
        .execute(&self.pool)
        .await;
        self.config_cache.clear();
        expect_one(result?)
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM clients WHERE client_id = $1")
            .bind(client_id)
            .execute(&self.pool)
            .await;
        self.config_cache.clear();
        expect_one(result?)
    }

    async fn clients(&self, page: Page) -> StoreResult<Vec<StoredClient>> {
        sqlx::query(
            "SELECT secret_hash, body FROM clients ORDER BY created_at, client_id LIMIT $1 OFFSET $2",
        )
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(client_from_row)
        .collect()
    }

    async fn create_resource_server(&self, api: &ResourceServer, now: i64) -> StoreResult<()> {
        let written = sqlx::query(
            "INSERT INTO resource_servers (id, identifier, name, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&api.id)
        .bind(&api.identifier)
        .bind(&api.name)
        .bind(to_json(api))
        .bind(now)
        .execute(&self.pool)
        .await;
        self.config_cache.clear();
        written.map_err(|e| StoreError::from_write(e, "identifier"))?;
        Ok(())
    }

    async fn resource_server(&self, id: &str) -> StoreResult<Option<ResourceServer>> {
        let key = Key::ResourceServer(id.to_owned());
        self.config_cache
            .get_or_load_found(&self.pool, key, self.load_resource_server(id))
            .await
    }

    async fn resource_server_by_identifier(
        &self,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>> {
        let key = Key::ResourceServerByIdentifier(identifier.to_owned());
        let load = self.load_resource_server_by_identifier(identifier);
        self.config_cache
            .get_or_load_found(&self.pool, key, load)
            .await
    }

    async fn update_resource_server(&self, api: &ResourceServer) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE resource_servers SET name = $1, body = $2 WHERE id = $3 AND identifier = $4",
        )
        .bind(&api.name)
        .bind(to_json(api))
        .bind(&api.id)
        .bind(&api.identifier)
        .execute(&self.pool)
        .await;
        self.config_cache.clear();
        expect_one(result?)
    }

    async fn delete_resource_server(&self, id: &str) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM resource_servers WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await;
        self.config_cache.clear();
        expect_one(result?)
    }

    async fn resource_servers(&self, page: Page) -> StoreResult<Vec<ResourceServer>> {
        if page == Page::ALL {
            let load = self.load_resource_servers(page);
            return self
                .config_cache
                .get_or_load(&self.pool, Key::AllResourceServers, load)
                .await;
        }
        self.load_resource_servers(page).await
    }

    async fn create_client_grant(&self, grant: &ClientGrant, now: i64) -> StoreResult<()> {
        let written = sqlx::query(
            "INSERT INTO client_grants (id, client_id, default_for, audience, subject_type, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&grant.id)
        .bind(grant.client_id.clone())
        .bind(grant.default_for.clone())
        .bind(&grant.audience)
        .bind(subject_type_str(grant.subject_type))
        .bind(to_json(grant))
        .bind(now)
        .execute(&self.pool)
        .await;
        self.config_cache.clear();
        written
            .map_err(|e| StoreError::from_write(e, "client grant for this client and audience"))?;
        Ok(())
    }

    async fn client_grant(&self, id: &str) -> StoreResult<Option<ClientGrant>> {
        sqlx::query("SELECT body FROM client_grants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(body)
            .transpose()
    }

    async fn update_client_grant(&self, grant: &ClientGrant) -> StoreResult<()> {
        let result = sqlx::query("UPDATE client_grants SET body = $1 WHERE id = $2")
            .bind(to_json(grant))
            .bind(&grant.id)
            .execute(&self.pool)
            .await;
        self.config_cache.clear();
        expect_one(result?)
    }

    async fn delete_client_grant(&self, id: &str) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM client_grants WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await;
        self.config_cache.clear();
        expect_one(result?)
    }

    async fn client_grants(&self, page: Page) -> StoreResult<Vec<ClientGrant>> {
        sqlx::query("SELECT body FROM client_grants ORDER BY created_at, id LIMIT $1 OFFSET $2")
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(body)
            .collect()
    }

    async fn client_grants_for(
        &self,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Vec<ClientGrant>> {
        let key = Key::ClientGrantsFor {
            client_id: client_id.to_owned(),
            audience: audience.to_owned(),
        };
        let load = self.load_client_grants_for(client_id, audience);
        self.config_cache.get_or_load(&self.pool, key, load).await
    }
}

/// The database reads behind the cached ones.
impl SqlStore {
    async fn load_tenant_settings(&self) -> StoreResult<TenantSettings> {
        let row = sqlx::query("SELECT body FROM tenant_settings WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => body(&row),
            None => Ok(TenantSettings::default()),
        }
    }

    async fn load_signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
        // Named columns, not `*`: a pooled SQLite connection that read the
        // schema before migration 0006 renamed the column would otherwise
        // report the old column name.
        sqlx::query(
            "SELECT kid, alg, state, private_key, cert_der, created_at, state_changed_at \
             FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(key_from_row)
        .collect()
    }

    async fn replace_private_keys_in_transaction(
        &self,
        keys: &[(String, String)],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (kid, private_key) in keys {
            let result = sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2")
                .bind(private_key)
                .bind(kid)
                .execute(&mut *tx)
                .await?;
            expect_one(result)?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn load_client(&self, client_id: &str) -> StoreResult<Option<StoredClient>> {
        sqlx::query("SELECT secret_hash, body FROM clients WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(client_from_row)
            .transpose()
    }

    async fn load_resource_server(&self, id: &str) -> StoreResult<Option<ResourceServer>> {
        sqlx::query("SELECT body FROM resource_servers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(body)
            .transpose()
    }

    async fn load_resource_server_by_identifier(
        &self,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServer>> {
        sqlx::query("SELECT body FROM resource_servers WHERE identifier = $1")
            .bind(identifier)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(body)
            .transpose()
    }

    async fn load_resource_servers(&self, page: Page) -> StoreResult<Vec<ResourceServer>> {
        sqlx::query("SELECT body FROM resource_servers ORDER BY created_at, id LIMIT $1 OFFSET $2")
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(body)
            .collect()
    }

    async fn load_client_grants_for(
        &self,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Vec<ClientGrant>> {
        sqlx::query(
            "SELECT body FROM client_grants WHERE audience = $1 \
             AND (client_id = $2 OR default_for IS NOT NULL) ORDER BY created_at, id",
        )
        .bind(audience)
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(body)
        .collect()
    }
}
