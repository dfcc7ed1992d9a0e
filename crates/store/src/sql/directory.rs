//! Users, roles, permissions and consents.

use super::bulk::{insert_rows, Value, IGNORE_DUPLICATES};
use super::user_search::{
    bind_search_columns, order_by, set_search_columns, SearchColumns, UserSql,
};
use super::{body, bool_int, expect_one, from_json, to_json, SqlStore};
use crate::error::{StoreError, StoreResult};
use crate::{DailyCounts, DirectoryStore, Page, StoredUser, UserSearch, UserSearchPage};
use async_trait::async_trait;
use gatehouse_core::model::{EffectivePermission, Permission, PermissionSource, Role, User};
use sqlx::any::AnyRow;
use sqlx::Row;

fn user_from_row(row: &AnyRow) -> StoreResult<StoredUser> {
    Ok(StoredUser {
        user: body(row)?,
        password_hash: row.try_get("password_hash")?,
    })
}

fn role_from_row(row: &AnyRow) -> StoreResult<Role> {
    Ok(Role {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
    })
}

fn permission_from_row(row: &AnyRow) -> StoreResult<Permission> {
    Ok(Permission {
        resource_server_identifier: row.try_get("resource_server_identifier")?,
        permission_name: row.try_get("permission_name")?,
    })
}

/// The columns of a user row before its [`SearchColumns::NAMES`], in the
/// order of [`user_values`].
const USER_COLUMNS: [&str; 9] = [
    "user_id",
    "connection",
    "email",
    "name",
    "password_hash",
    "blocked",
    "body",
    "created_at",
    "updated_at",
];

fn user_values(stored: &StoredUser) -> Vec<Value> {
    let u = &stored.user;
    let mut values = vec![
        Value::Text(Some(u.user_id.clone())),
        Value::Text(Some(u.connection.clone())),
        Value::Text(u.email.clone()),
        Value::Text(u.name.clone()),
        Value::Text(stored.password_hash.clone()),
        Value::Int(Some(bool_int(u.blocked))),
        Value::Text(Some(to_json(u))),
        Value::Int(Some(u.created_at)),
        Value::Int(Some(u.updated_at)),
    ];
    values.extend(SearchColumns::of(u).values());
    values
}

async fn insert_users(conn: &mut sqlx::AnyConnection, users: &[StoredUser]) -> StoreResult<()> {
    let rows = users.iter().map(user_values).collect();
    let columns: Vec<&str> = USER_COLUMNS
        .into_iter()
        .chain(SearchColumns::NAMES)
        .collect();
    insert_rows(conn, "users", &columns, rows, "")
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("The user already exists.".into()),
            e => e,
        })
}

/// Seconds in a day: log dates are epoch seconds, days are UTC.
const DAY: i64 = 86_400;

impl SqlStore {
    /// Runs `sql` once per item in one transaction, binding `owner` then the
    /// item's values (assignments are small lists).
    async fn for_each_in_tx<T: Sync>(
        &self,
        sql: &str,
        owner: &str,
        items: &[T],
        values: impl Fn(&T) -> Vec<String> + Send + Sync,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for item in items {
            let mut query = sqlx::query(sql).bind(owner.to_string());
            for value in values(item) {
                query = query.bind(value);
            }
            query
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::from_write(e, "assignment"))?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn permission_values(p: &Permission) -> Vec<String> {
    vec![
        p.resource_server_identifier.clone(),
        p.permission_name.clone(),
    ]
}

#[async_trait]
impl DirectoryStore for SqlStore {
    async fn create_user(&self, user: &StoredUser) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        insert_users(&mut conn, std::slice::from_ref(user)).await
    }

    async fn create_users(&self, users: &[StoredUser]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        insert_users(&mut tx, users).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user(&self, user_id: &str) -> StoreResult<Option<StoredUser>> {
        sqlx::query("SELECT password_hash, body FROM users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn user_by_email(
        &self,
        connection: &str,
        email: &str,
    ) -> StoreResult<Option<StoredUser>> {
        sqlx::query(
            "SELECT password_hash, body FROM users WHERE connection = $1 AND email_norm = $2",
        )
        .bind(connection)
        .bind(email.to_lowercase())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user_from_row)
        .transpose()
    }

    async fn update_user(&self, user: &StoredUser) -> StoreResult<()> {
        let u = &user.user;
        let sql = format!(
            "UPDATE users SET email = $1, name = $2, password_hash = $3, blocked = $4, body = $5, \
             updated_at = $6, {} WHERE user_id = $15",
            set_search_columns(7)
        );
        let query = sqlx::query(&sql)
            .bind(u.email.clone())
            .bind(u.name.clone())
            .bind(user.password_hash.clone())
            .bind(bool_int(u.blocked))
            .bind(to_json(u))
            .bind(u.updated_at);
        let result = bind_search_columns(query, SearchColumns::of(u))
            .bind(&u.user_id)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::from_write(e, "The user already exists."))?;
        expect_one(result)
    }

    async fn delete_user(&self, user_id: &str) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM users WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        expect_one(result)
    }

    async fn users(&self, page: Page) -> StoreResult<Vec<StoredUser>> {
        sqlx::query(
            "SELECT password_hash, body FROM users ORDER BY created_at, user_id LIMIT $1 OFFSET $2",
        )
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn record_login(&self, user_id: &str, now: i64) -> StoreResult<()> {
        // Compare-and-swap on the body: a concurrent login or profile update
        // makes the write miss and the loop retry on fresh data, so neither a
        // count nor an update (such as `blocked`) is lost.
        loop {
            let old: Option<String> =
                sqlx::query_scalar("SELECT body FROM users WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?;
            let Some(old) = old else {
                return Err(StoreError::NotFound);
            };
            let mut user: User = from_json(&old)?;
            user.last_login = Some(now);
            user.logins_count += 1;
            let written = sqlx::query(
                "UPDATE users SET body = $1, last_login = $2, logins_count = $3 \
                 WHERE user_id = $4 AND body = $5",
            )
            .bind(to_json(&user))
            .bind(user.last_login)
            .bind(user.logins_count)
            .bind(user_id)
            .bind(&old)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if written == 1 {
                return Ok(());
            }
        }
    }

    async fn search_users(&self, search: &UserSearch) -> StoreResult<UserSearchPage> {
        let mut sql = UserSql::filtered(search);
        let filter = sql.where_clause();
        let total = if search.include_total {
            let count = format!("SELECT COUNT(*) AS n FROM users{filter}");
            Some(
                sql.query(&count)
                    .fetch_one(&self.pool)
                    .await?
                    .try_get("n")?,
            )
        } else {
            None
        };
        let page = sql.order_and_page(search, self.backend());
        let order = order_by(search.sort, self.backend());
        // The page is cut on the keys alone; only its rows' bodies are read
        // (sorting whole rows spilled to disk at 100,000 users).
        let select = format!(
            "SELECT password_hash, body FROM users WHERE user_id IN \
             (SELECT user_id FROM users{filter}{page}) ORDER BY {order}"
        );
        let users = sql
            .query(&select)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_from_row)
            .collect::<StoreResult<_>>()?;
        Ok(UserSearchPage { users, total })
    }

    async fn users_with_email(&self, email: &str) -> StoreResult<Vec<StoredUser>> {
        sqlx::query(
            "SELECT password_hash, body FROM users WHERE email_norm = $1 ORDER BY created_at, user_id",
        )
        .bind(email.to_lowercase())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn count_users_active_since(&self, since: i64) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE last_login >= $1")
                .bind(since)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn daily_counts(&self, first_day: i64, last_day: i64) -> StoreResult<Vec<DailyCounts>> {
        self.logs.flush().await?;
        let rows = sqlx::query(
            "SELECT date / $1 AS day, \
             SUM(CASE WHEN type = 's' THEN 1 ELSE 0 END) AS logins, \
             SUM(CASE WHEN type = 'ss' THEN 1 ELSE 0 END) AS signups, \
             MIN(date) AS first_event_at, MAX(date) AS last_event_at \
             FROM log_events WHERE type IN ('s', 'ss') AND date >= $2 AND date < $3 \
             GROUP BY date / $1 ORDER BY day",
        )
        .bind(DAY)
        .bind(first_day.saturating_mul(DAY))
        .bind(last_day.saturating_add(1).saturating_mul(DAY))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DailyCounts {
                    day: row.try_get("day")?,
                    logins: row.try_get("logins")?,
                    signups: row.try_get("signups")?,
                    first_event_at: row.try_get("first_event_at")?,
                    last_event_at: row.try_get("last_event_at")?,
                })
            })
            .collect()
    }

    async fn create_role(&self, role: &Role, now: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO roles (id, name, description, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&role.id)
        .bind(&role.name)
        .bind(&role.description)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_write(e, "role name"))?;
        Ok(())
    }

    async fn role(&self, id: &str) -> StoreResult<Option<Role>> {
        sqlx::query("SELECT id, name, description FROM roles WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(role_from_row)
            .transpose()
    }

    async fn update_role(&self, role: &Role) -> StoreResult<()> {
        let result = sqlx::query("UPDATE roles SET name = $1, description = $2 WHERE id = $3")
            .bind(&role.name)
            .bind(&role.description)
            .bind(&role.id)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::from_write(e, "role name"))?;
        expect_one(result)
    }

    async fn delete_role(&self, id: &str) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM roles WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        expect_one(result)
    }

    async fn roles(&self, page: Page) -> StoreResult<Vec<Role>> {
        sqlx::query("SELECT id, name, description FROM roles ORDER BY name, id LIMIT $1 OFFSET $2")
            .bind(page.limit)
            .bind(page.offset)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(role_from_row)
            .collect()
    }

    async fn add_role_permissions(&self, role_id: &str, perms: &[Permission]) -> StoreResult<()> {
        self.for_each_in_tx(
            "INSERT INTO role_permissions (role_id, resource_server_identifier, permission_name) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            role_id,
            perms,
            permission_values,
        )
        .await
    }

    async fn remove_role_permissions(
        &self,
        role_id: &str,
        perms: &[Permission],
    ) -> StoreResult<()> {
        self.for_each_in_tx(
            "DELETE FROM role_permissions WHERE role_id = $1 AND resource_server_identifier = $2 \
             AND permission_name = $3",
            role_id,
            perms,
            permission_values,
        )
        .await
    }

    async fn role_permissions(&self, role_id: &str) -> StoreResult<Vec<Permission>> {
        sqlx::query(
            "SELECT resource_server_identifier, permission_name FROM role_permissions \
             WHERE role_id = $1 ORDER BY resource_server_identifier, permission_name",
        )
        .bind(role_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(permission_from_row)
        .collect()
    }

    async fn assign_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx(
            "INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            user_id,
            role_ids,
            |id| vec![id.clone()],
        )
        .await
    }

    async fn remove_user_roles(&self, user_id: &str, role_ids: &[String]) -> StoreResult<()> {
        self.for_each_in_tx(
            "DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2",
            user_id,
            role_ids,
            |id| vec![id.clone()],
        )
        .await
    }

    async fn user_roles(&self, user_id: &str) -> StoreResult<Vec<Role>> {
        sqlx::query(
            "SELECT r.id, r.name, r.description FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
             WHERE ur.user_id = $1 ORDER BY r.name, r.id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(role_from_row)
        .collect()
    }

    async fn role_users(&self, role_id: &str, page: Page) -> StoreResult<Vec<StoredUser>> {
        sqlx::query(
            "SELECT u.password_hash, u.body FROM users u JOIN \
             (SELECT m.user_id, m.created_at FROM user_roles ur JOIN users m ON m.user_id = ur.user_id \
             WHERE ur.role_id = $1 ORDER BY m.created_at, m.user_id LIMIT $2 OFFSET $3) page \
             ON u.user_id = page.user_id ORDER BY page.created_at, page.user_id",
        )
        .bind(role_id)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn count_role_users(&self, role_id: &str) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM user_roles WHERE role_id = $1")
                .bind(role_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn add_role_users(&self, role_id: &str, user_ids: &[String]) -> StoreResult<()> {
        let mut ids: Vec<&String> = user_ids.iter().collect();
        ids.sort_unstable();
        ids.dedup();
        let rows = ids
            .into_iter()
            .map(|user_id| {
                vec![
                    Value::Text(Some(user_id.clone())),
                    Value::Text(Some(role_id.to_string())),
                ]
            })
            .collect();
        let mut tx = self.pool.begin().await?;
        let columns = ["user_id", "role_id"];
        insert_rows(&mut tx, "user_roles", &columns, rows, IGNORE_DUPLICATES).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_user_permissions(&self, user_id: &str, perms: &[Permission]) -> StoreResult<()> {
        self.for_each_in_tx(
            "INSERT INTO user_permissions (user_id, resource_server_identifier, permission_name) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            user_id,
            perms,
            permission_values,
        )
        .await
    }

    async fn remove_user_permissions(
        &self,
        user_id: &str,
        perms: &[Permission],
    ) -> StoreResult<()> {
        self.for_each_in_tx(
            "DELETE FROM user_permissions WHERE user_id = $1 AND resource_server_identifier = $2 \
             AND permission_name = $3",
            user_id,
            perms,
            permission_values,
        )
        .await
    }

    async fn user_direct_permissions(&self, user_id: &str) -> StoreResult<Vec<Permission>> {
        sqlx::query(
            "SELECT resource_server_identifier, permission_name FROM user_permissions \
             WHERE user_id = $1 ORDER BY resource_server_identifier, permission_name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(permission_from_row)
        .collect()
    }

    async fn effective_permissions(
        &self,
        user_id: &str,
        audience: &str,
    ) -> StoreResult<Vec<EffectivePermission>> {
        let rows = sqlx::query(
            "SELECT permission_name, CAST(NULL AS TEXT) AS role_id, CAST(NULL AS TEXT) AS role_name \
             FROM user_permissions WHERE user_id = $1 AND resource_server_identifier = $2 \
             UNION ALL \
             SELECT rp.permission_name, r.id AS role_id, r.name AS role_name \
             FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
             JOIN role_permissions rp ON rp.role_id = r.id \
             WHERE ur.user_id = $1 AND rp.resource_server_identifier = $2",
        )
        .bind(user_id)
        .bind(audience)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<EffectivePermission> = Vec::new();
        for row in &rows {
            let name: String = row.try_get("permission_name")?;
            let source = match (
                row.try_get::<Option<String>, _>("role_id")?,
                row.try_get::<Option<String>, _>("role_name")?,
            ) {
                (Some(role_id), Some(role_name)) => PermissionSource::Role { role_id, role_name },
                _ => PermissionSource::Direct,
            };
            match out.iter_mut().find(|p| p.permission_name == name) {
                Some(existing) => existing.sources.push(source),
                None => out.push(EffectivePermission {
                    permission_name: name,
                    sources: vec![source],
                }),
            }
        }
        out.sort_by(|a, b| a.permission_name.cmp(&b.permission_name));
        Ok(out)
    }

    async fn roles_granting(
        &self,
        audience: &str,
        scopes: &[String],
    ) -> StoreResult<Vec<(String, Vec<String>)>> {
        let rows = sqlx::query(
            "SELECT rp.permission_name, r.name FROM role_permissions rp JOIN roles r ON r.id = rp.role_id \
             WHERE rp.resource_server_identifier = $1 ORDER BY r.name",
        )
        .bind(audience)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for scope in scopes {
            let mut roles = Vec::new();
            for row in &rows {
                if &row.try_get::<String, _>("permission_name")? == scope {
                    roles.push(row.try_get::<String, _>("name")?);
                }
            }
            if !roles.is_empty() {
                out.push((scope.clone(), roles));
            }
        }
        Ok(out)
    }

    async fn consent(
        &self,
        user_id: &str,
        client_id: &str,
        audience: &str,
    ) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2 AND audience = $3",
        )
        .bind(user_id)
        .bind(client_id)
        .bind(audience)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn put_consent(
        &self,
        user_id: &str,
        client_id: &str,
        audience: &str,
        scope: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO consents (user_id, client_id, audience, scope, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, client_id, audience) DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(client_id)
        .bind(audience)
        .bind(scope)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
